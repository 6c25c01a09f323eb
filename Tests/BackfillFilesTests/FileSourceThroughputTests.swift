import BackfillCore
import BackfillFiles
import Foundation
import Testing

/// Rows per second through the file sources; a measurement, so it runs only when asked:
/// `BACKFILL_BENCH_ROWS=1000000 [BACKFILL_BENCH_BATCH=5000] swift test -c release --scratch-path .build-release --filter FileSourceThroughput`.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["BACKFILL_BENCH_ROWS"] != nil))
struct FileSourceThroughputTests {
    private let rowCount = Int(ProcessInfo.processInfo.environment["BACKFILL_BENCH_ROWS"] ?? "") ?? 200_000
    private let batchSize = Int(ProcessInfo.processInfo.environment["BACKFILL_BENCH_BATCH"] ?? "") ?? 5_000

    @Test(.timeLimit(.minutes(5))) func csvReadsAtLeast300kSixColumnRowsPerSecondInRelease() async throws {
        var csv = "id,customer_id,status,total_cents,note,updated_at\n"
        for id in 0..<rowCount {
            let note = id % 10 == 0 ? "\"with, comma and \"\"quotes\"\"\"" : "plain note"
            csv += "\(id),\(id % 9973),shipped,\(id * 13 % 100_000),\(note),2026-11-01T10:00:\(id % 60)Z\n"
        }
        let rowsPerSecond = try await measure(csv, extension: "csv") { CSVSource(path: $0, columns: nil) }
        #if !DEBUG
            #expect(rowsPerSecond >= 300_000)
        #endif
    }

    @Test(.timeLimit(.minutes(5))) func jsonlThroughput() async throws {
        var jsonl = ""
        for id in 0..<rowCount {
            jsonl +=
                #"{"id":\#(id),"customer_id":\#(id % 9973),"status":"shipped","total_cents":\#(id * 13 % 100_000),"#
            jsonl += #""note":"plain \"note\"","updated_at":"2026-11-01T10:00:00Z"}"# + "\n"
        }
        _ = try await measure(jsonl, extension: "jsonl") { JSONLSource(path: $0, columns: nil) }
    }

    private func measure<S: Source>(_ contents: String, extension ext: String, _ make: (String) -> S) async throws
        -> Double
    {
        try await withTemporaryFile(contents, extension: ext) { path async throws in
            let source = make(path)
            let clock = ContinuousClock()
            var result = ReadResult()
            let elapsed = try await clock.measure { result = try await readAll(source, batchSize: batchSize) }
            let seconds = elapsed.inSeconds
            let rowsPerSecond = Double(result.rows.count) / seconds
            print(
                "\(ext): \(result.rows.count) rows in \(String(format: "%.3f", seconds)) s = \(Int(rowsPerSecond)) rows/s"
            )
            #expect(result.rows.count == rowCount)
            return rowsPerSecond
        }
    }
}
