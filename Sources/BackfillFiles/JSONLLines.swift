import BackfillCore

/// Splits bytes into JSONL lines for the JSONL scanners: blank lines are skipped, the last line may
/// lack its line feed, and a line that does not decode becomes a rejected record.
enum JSONLLines {
    /// Feeds each whole line in `bytes` to `decode` until `batch` is full; returns the bytes consumed.
    static func scan(
        _ bytes: UnsafeBufferPointer<UInt8>, atEnd: Bool, into batch: inout BatchBuilder,
        decode: (UnsafeBufferPointer<UInt8>) -> Result<[Value], JSONLineProblem>
    ) -> Int {
        var index = 0
        while index < bytes.count, !batch.isFull {
            let lineFeed = bytes.firstLineFeed(from: index)
            guard lineFeed != nil || atEnd else { return index }
            let contentEnd = lineFeed ?? bytes.count
            let end = lineFeed.map { $0 + 1 } ?? bytes.count
            if !bytes.isBlank(index..<contentEnd) {
                switch decode(UnsafeBufferPointer(rebasing: bytes[index..<contentEnd])) {
                case .success(let row):
                    batch.append(row)
                case .failure(let problem):
                    batch.reject(UnsafeBufferPointer(rebasing: bytes[index..<end]), reason: problem.reason)
                }
            }
            if lineFeed != nil { batch.line += 1 }
            index = end
        }
        return index
    }
}
