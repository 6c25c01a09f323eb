import Testing

@testable import BackfillCore

/// When a batch may bet on the rest of its chunk being equal (`ChunkProgress.mayCompareRest`).
struct ChunkProgressTests {
    private let chunk = ChunkRecord(
        id: 1, runID: 1, index: 0, range: .all, estimatedRows: 100_000, status: .running, cursor: nil, counters: Counters())

    private func result(read: Int, unchanged: Int) -> BatchResult {
        BatchResult(
            delta: Counters(read: read, outcome: WriteOutcome(updated: read - unchanged, unchanged: unchanged), quarantined: 0),
            quarantine: [], cursor: Cursor(key: [.integer(Int64(read))]), isLast: false)
    }

    @Test("with a diff path, the rest is compared only after a batch found every row equal, and once per claim")
    func afterAnEqualWindow() {
        var progress = ChunkProgress(chunk, seenKeys: nil, windowsFirst: true, now: .now)
        #expect(!progress.mayCompareRest, "the first window is compared by hashes")
        progress.advance(past: result(read: 10_000, unchanged: 9_900))
        #expect(!progress.mayCompareRest, "a window with differences: the chunk is likely damaged further on")
        progress.advance(past: result(read: 10_000, unchanged: 10_000))
        #expect(progress.mayCompareRest)
        progress.advance(past: result(read: 10_000, unchanged: 10_000))
        #expect(!progress.mayCompareRest, "offered once: it found a difference, the windows go on")
    }

    @Test("without a diff path, the rest is compared at the first batch of the claim only")
    func atTheFirstBatch() {
        var progress = ChunkProgress(chunk, seenKeys: nil, windowsFirst: false, now: .now)
        #expect(progress.mayCompareRest)
        progress.advance(past: result(read: 10_000, unchanged: 10_000))
        #expect(!progress.mayCompareRest)
    }
}
