import BackfillCore
import BackfillTesting
import Foundation
import Testing

@testable import BackfillSQLite

/// The SQLite state store reads its rows as strictly as the PostgreSQL one: what it stored reads
/// back exactly, and a row changed by hand into something this version cannot read is an error
/// naming the table and column — never a `failed` run or a chunk over the whole key space.
struct SQLiteStateRowsTests {
    @Test("runs and chunks read back as stored; an unknown status, a broken range or cursor is refused by name")
    func strictRows() async throws {
        let path = try Fixtures.temporaryDirectory("state-rows") + "/state.db"
        let store = try SQLiteStateStore(path: path, create: true)
        let range = KeyRange(lower: [.integer(1)], upper: [.integer(9)])
        let run = try await store.createRun(NewRun(
            job: "rows", specFingerprint: "f1", chunks: [ChunkPlan(index: 0, range: range, estimatedRows: 8)], owner: "test:1"))
        let read = try #require(try await store.run(id: run.id))
        #expect(read.job == "rows" && read.specFingerprint == "f1" && read.status == run.status && read.estimatedRows == 8 && read.owner == "test:1")
        let chunk = try #require(try await store.chunks(runID: run.id).first)
        #expect(chunk.range == range && chunk.status == .pending && chunk.estimatedRows == 8 && chunk.cursor == nil)

        try Fixtures.execute(path: path, "UPDATE runs SET status = 'exploded' WHERE id = \(run.id)")
        await #expect { try await store.run(id: run.id) } throws: { "\($0)".contains("runs table holds status 'exploded'") }
        await #expect { try await store.directives(runID: run.id) } throws: { "\($0)".contains("runs table holds status 'exploded'") }
        try Fixtures.execute(path: path, "UPDATE runs SET status = 'running' WHERE id = \(run.id)")
        #expect(try await store.run(id: run.id)?.status == .running)

        try Fixtures.execute(path: path, "UPDATE chunks SET range = 'not json' WHERE run_id = \(run.id)")
        await #expect { try await store.chunks(runID: run.id) } throws: { "\($0)".contains("chunks table holds a range this version cannot read") }
        try Fixtures.execute(path: path, "UPDATE chunks SET range = '\(try StateJSON.encode(range))', cursor = '{\"key\": 5' WHERE run_id = \(run.id)")
        await #expect { try await store.chunks(runID: run.id) } throws: { "\($0)".contains("chunks table holds a cursor this version cannot read") }
        try Fixtures.execute(path: path, "UPDATE chunks SET cursor = NULL, status = 'melted' WHERE run_id = \(run.id)")
        await #expect { try await store.chunks(runID: run.id) } throws: { "\($0)".contains("chunks table holds status 'melted'") }
    }
}
