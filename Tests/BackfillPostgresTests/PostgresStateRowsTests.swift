import BackfillCore
import BackfillTesting
import Foundation
import Testing

@testable import BackfillPostgres

/// The PostgreSQL state store decodes its rows into typed rows: what it stored reads back exactly,
/// and a row changed by hand into something this version cannot read is an error naming the table
/// and column, never a record with made-up values.
@Suite(.enabled(if: PostgresFixture.server != nil, "needs the PostgreSQL server scripts/test.sh starts"))
struct PostgresStateRowsTests {
    @Test("runs, chunks, events and quarantine read back as stored; an unknown status or a broken column is refused by name")
    func typedRows() async throws {
        let server = try #require(PostgresFixture.server)
        let store = try await PostgresStateStore.open(server.dsn(try await server.createDatabase("rows")), create: true)
        defer { store.database.close() }
        let run = try await store.createRun(NewRun(
            job: "rows", specFingerprint: "f1", chunks: [ChunkPlan(index: 0, range: KeyRange(lower: [.integer(1)], upper: [.integer(9)]), estimatedRows: 8)],
            owner: "test:1"))
        try await store.recordEvent(runID: run.id, kind: "started", message: "a message with 'quotes'")
        let read = try #require(try await store.run(id: run.id))
        #expect(read.job == "rows" && read.specFingerprint == "f1" && read.status == run.status && read.estimatedRows == 8 && read.owner == "test:1")
        let chunk = try #require(try await store.chunks(runID: run.id).first)
        #expect(chunk.range == KeyRange(lower: [.integer(1)], upper: [.integer(9)]) && chunk.status == .pending && chunk.estimatedRows == 8)
        #expect(try await store.events(runID: run.id).map(\.message) == ["a message with 'quotes'"])

        try await store.database.execute("UPDATE backfill.runs SET status = 'exploded' WHERE id = \(run.id)")
        await #expect { try await store.run(id: run.id) } throws: { error in
            "\(error)".contains("runs table holds status 'exploded'")
        }
        try await store.database.execute("UPDATE backfill.runs SET status = 'running' WHERE id = \(run.id)")
        try await store.database.execute("UPDATE backfill.chunks SET range = 'not json' WHERE run_id = \(run.id)")
        await #expect { try await store.chunks(runID: run.id) } throws: { error in "\(error)".contains("chunks table holds a range this version cannot read") }
    }
}
