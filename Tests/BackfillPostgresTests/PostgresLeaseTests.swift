import BackfillCore
import BackfillTesting
import Foundation
import PostgresNIO
import Testing

@testable import BackfillPostgres

@Suite(.enabled(if: PostgresFixture.server != nil, "needs the PostgreSQL server scripts/test.sh starts"))
struct PostgresLeaseTests {
    private func checkpoint(_ chunk: ChunkRecord, generation: Int, read: Int, token: String = UUID().uuidString) -> Checkpoint {
        var checkpoint = Checkpoint(
            runID: chunk.runID, chunkID: chunk.id, cursor: nil, delta: Counters(read: read, outcome: WriteOutcome(inserted: read), quarantined: 0),
            chunkDone: false, quarantine: [], activeSeconds: 0)
        checkpoint.fence = CheckpointFence(generation: generation, token: token)
        return checkpoint
    }

    /// Two processes' views of one store: `first` and `second` own their leases separately.
    private func stores(lease: Duration) async throws -> (PostgresStateStore, PostgresStateStore, RunRecord) {
        let server = try #require(PostgresFixture.server)
        let dsn = server.dsn(try await server.createDatabase("lease"))
        let opened = try await PostgresStateStore.open(dsn, create: true)
        let first = PostgresStateStore(database: opened.database, owner: "test:1", lease: lease)
        let second = PostgresStateStore(database: opened.database, owner: "test:2", lease: lease)
        let run = try await first.createRun(NewRun(
            job: "lease", specFingerprint: "f", chunks: [ChunkPlan(index: 0, range: .all, estimatedRows: 10)], owner: "test"))
        return (first, second, run)
    }

    @Test("a fenced checkpoint applies once: its retry is a no-op, and one from a stale generation is refused")
    func fencing() async throws {
        let (store, _, run) = try await stores(lease: .seconds(30))
        defer { store.database.close() }
        let chunk = try #require(try await store.claimChunk(runID: run.id))
        #expect(chunk.generation == 1, "a claim bumps the generation")

        let first = checkpoint(chunk, generation: 1, read: 5)
        try await store.checkpoint(first)
        // The same checkpoint again (a retry after a lost commit reply) changes nothing.
        try await store.checkpoint(first)
        #expect(try await store.run(id: run.id)?.counters.read == 5)

        await #expect {
            try await store.checkpoint(checkpoint(chunk, generation: 1, read: 7))
        } throws: { error in
            (error as? BackfillError)?.code == .leaseLost && "\(error)".contains("checkpoint refused")
        }
        try await store.checkpoint(checkpoint(chunk, generation: 2, read: 3))
        #expect(try await store.chunks(runID: run.id).first?.generation == 3)
        #expect(try await store.run(id: run.id)?.counters.read == 8)
    }

    @Test("a live lease keeps a chunk; an expired one is taken over, and the old holder can neither checkpoint nor release it")
    func takeover() async throws {
        let (first, second, run) = try await stores(lease: .seconds(60))
        defer { first.database.close() }
        let chunk = try #require(try await first.claimChunk(runID: run.id))
        #expect(try await second.claimChunk(runID: run.id) == nil, "the lease is live")
        let until = "SELECT lease_until::text FROM backfill.chunks WHERE id = \(chunk.id)"
        let before = try await first.database.textRows(PostgresQuery(unsafeSQL: until), "test").first?[0].flatMap { $0 }.flatMap(Double.init) ?? 0
        try await first.heartbeat(runID: run.id)
        let after = try await first.database.textRows(PostgresQuery(unsafeSQL: until), "test").first?[0].flatMap { $0 }.flatMap(Double.init) ?? 0
        #expect(after > before, "the heartbeat renews the lease")
        try await second.heartbeat(runID: run.id)
        #expect(try await first.database.textRows(PostgresQuery(unsafeSQL: until), "test").first?[0].flatMap { $0 }.flatMap(Double.init) == after,
                "another process's heartbeat leaves the lease alone")

        // The holder stalls past its lease (the clock is moved instead of waited out).
        try await first.database.execute("UPDATE backfill.chunks SET lease_until = extract(epoch FROM clock_timestamp()) - 1")
        let taken = try #require(try await second.claimChunk(runID: run.id), "the lease expired")
        #expect(taken.id == chunk.id && taken.generation == chunk.generation + 1)
        await #expect {
            try await first.checkpoint(checkpoint(chunk, generation: chunk.generation, read: 1))
        } throws: { error in
            (error as? BackfillError)?.code == .leaseLost && "\(error)".contains("test:2")
        }
        try await first.releaseChunk(id: chunk.id)
        let stored = try #require(try await second.chunks(runID: run.id).first)
        #expect(stored.status == .running, "the old holder's release leaves the new holder's chunk alone")
        try await second.checkpoint(checkpoint(taken, generation: taken.generation, read: 4))
        #expect(try await second.run(id: run.id)?.counters.read == 4)
    }
}
