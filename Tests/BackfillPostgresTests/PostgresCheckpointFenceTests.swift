import BackfillCore
import BackfillTesting
import Foundation
import Testing

@testable import BackfillPostgres

@Suite(.enabled(if: PostgresFixture.server != nil, "needs the PostgreSQL server scripts/test.sh starts"))
struct PostgresCheckpointFenceTests {
    private func checkpoint(_ chunk: ChunkRecord, generation: Int, read: Int, token: String = UUID().uuidString) -> Checkpoint {
        var checkpoint = Checkpoint(
            runID: chunk.runID, chunkID: chunk.id, cursor: nil, delta: Counters(read: read, outcome: WriteOutcome(inserted: read), quarantined: 0),
            chunkDone: false, quarantine: [], activeSeconds: 0)
        checkpoint.fence = CheckpointFence(generation: generation, token: token)
        return checkpoint
    }

    @Test("a fenced checkpoint applies once: its retry is a no-op, and one from a stale generation is refused")
    func fencing() async throws {
        let server = try #require(PostgresFixture.server)
        let store = try await PostgresStateStore.open(server.dsn(try await server.createDatabase("fence")), create: true)
        defer { store.database.close() }
        let run = try await store.createRun(NewRun(
            job: "fence", specFingerprint: "f", chunks: [ChunkPlan(index: 0, range: .all, estimatedRows: 10)], owner: "test"))
        let chunk = try #require(try await store.claimChunk(runID: run.id))
        #expect(chunk.checkpoints == 0)

        let first = checkpoint(chunk, generation: 0, read: 5)
        try await store.checkpoint(first)
        // The same checkpoint again (a retry after a lost commit reply) changes nothing.
        try await store.checkpoint(first)
        #expect(try await store.run(id: run.id)?.counters.read == 5)

        // A process still at generation 0 (it lost the chunk) cannot move it.
        await #expect {
            try await store.checkpoint(checkpoint(chunk, generation: 0, read: 7))
        } throws: { error in
            (error as? BackfillError)?.code == .stateStore && "\(error)".contains("checkpoint refused")
        }
        try await store.checkpoint(checkpoint(chunk, generation: 1, read: 3))
        let chunks = try await store.chunks(runID: run.id)
        #expect(chunks.first?.checkpoints == 2)
        #expect(try await store.run(id: run.id)?.counters.read == 8)
    }
}
