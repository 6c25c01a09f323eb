import BackfillCore

/// An export location read in parts, one chunk per part; what the CSV and JSONL sources share.
struct PartedExport: Sendable {
    /// A file, a directory or a glob (see `ExportParts`).
    let location: String
    /// The file kind as users name it, for errors: `CSV`, `JSONL`.
    let format: String
    let openParts = OpenParts()

    /// The files the location names now, sorted.
    /// - Throws: `BackfillError` `.invalidInput` when it names none.
    func parts() throws -> [String] {
        try ExportParts.resolve(location, format: format)
    }

    /// The first part, whose header or keys describe the export.
    func firstPart() throws -> String {
        try parts()[0]
    }

    /// One chunk per part, in path order, each carrying the part's fingerprint so that resuming
    /// detects a part replaced since. Compressed parts are decoded whole first, so a damaged part is
    /// refused before any record is written (see `PartEncoding.checkIntact`).
    /// - Parameter estimate: the records a part holds, roughly; it may also check the part.
    func plan(estimate: (String) throws -> Int) throws -> [ChunkPlan] {
        try parts().enumerated().map { index, path in
            let part = try PartFingerprint.take(path, format: format)
            try PartEncoding.checkIntact(part, format: format)
            return ChunkPlan(index: index, range: KeyRange(part: part), estimatedRows: try estimate(path))
        }
    }

    /// The file a chunk reads: its part, checked unchanged since the run planned it; for a chunk
    /// without a part (`.all`), the location's only part.
    /// - Throws: `BackfillError` `.invalidInput` when the part changed or is gone, or `.all` is read
    ///   from an export of several parts.
    func path(of chunk: KeyRange) throws -> String {
        if let part = chunk.part {
            try openParts.checkUnchanged(part, format: format)
            return part.path
        }
        let all = try parts()
        guard all.count == 1 else {
            throw BackfillError(
                .invalidInput, "the export has \(all.count) parts; it is read one part per chunk, as planned", location: location)
        }
        return all[0]
    }

    /// Checks that the part of each chunk is still the file the run planned.
    /// - Throws: `BackfillError` `.invalidInput` naming the first part that changed.
    func checkUnchanged(_ chunks: [KeyRange]) throws {
        for part in chunks.compactMap(\.part) { try openParts.checkUnchanged(part, format: format) }
    }

    /// `batch` with its rejected records naming the part they come from, when the location holds
    /// several parts (their lines alone would not say which file).
    func naming(_ path: String, in batch: SourceBatch) -> SourceBatch {
        guard path != location, !batch.rejected.isEmpty else { return batch }
        var named = batch
        let name = path.split(separator: "/").last.map(String.init) ?? path
        named.rejected = batch.rejected.map { row in
            var row = row
            row.reason = "\(name): \(row.reason)"
            return row
        }
        return named
    }
}
