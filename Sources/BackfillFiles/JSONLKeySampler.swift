import BackfillCore

/// Collects the keys of the first objects of a JSONL file, in order of first appearance.
struct JSONLKeySampler: RecordScanner {
    /// Lines whose keys make up the file's columns.
    static let sampleLines = 100

    private(set) var keys: [String] = []
    private var seen: Set<String> = []
    private let maxRecordBytes: Int

    init(maxRecordBytes: Int) {
        self.maxRecordBytes = maxRecordBytes
    }

    var oversizeReason: String { JSONLineProblem.tooLong(limit: maxRecordBytes).reason }
    var resynchronisationStart: Int? { nil }

    /// The union of the keys of the first `sampleLines` non-blank lines of `path` (from `start`).
    /// - Throws: `BackfillError` `.invalidInput` when the file cannot be read, is empty, or none of those
    ///   lines is a JSON object.
    static func keys(path: String, from start: FilePosition, maxRecordBytes: Int) throws -> [String] {
        var sampler = JSONLKeySampler(maxRecordBytes: maxRecordBytes)
        var reader = FileBatchReader(path: path, format: "JSONL")
        reader.maxRecordBytes = maxRecordBytes
        let batch = try reader.read(from: start, limit: sampleLines, with: &sampler)
        if let rejected = batch.rejected.first, batch.rows.isEmpty {
            throw BackfillError(
                .invalidInput,
                "none of the first \(batch.rejected.count) lines is a JSON object (\(rejected.reason)); a JSONL file holds one object per line",
                location: "\(path):\(rejected.line ?? 1)")
        }
        guard !batch.rows.isEmpty else {
            throw BackfillError(
                .invalidInput, "the JSONL file is empty: it needs one JSON object per line", location: path)
        }
        return sampler.keys
    }

    mutating func scan(_ bytes: UnsafeBufferPointer<UInt8>, atEnd: Bool, into batch: inout BatchBuilder) -> Int {
        JSONLLines.scan(bytes, atEnd: atEnd, into: &batch) { line in
            do throws(JSONLineProblem) {
                try collectKeys(of: line)
                return .success([])
            } catch {
                return .failure(error)
            }
        }
    }

    private mutating func collectKeys(of line: UnsafeBufferPointer<UInt8>) throws(JSONLineProblem) {
        var parser = JSONLineParser(line)
        var lineKeys: [String] = []
        try parser.beginObject()
        while let key = try parser.nextKey() {
            lineKeys.append(key)
            try parser.skipValue()
        }
        try parser.end()
        // Only a whole valid line contributes keys, as only such a line becomes a row.
        for key in lineKeys where seen.insert(key.lowercased()).inserted {
            keys.append(key)
        }
    }
}
