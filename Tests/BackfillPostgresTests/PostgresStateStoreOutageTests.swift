import BackfillCore
import BackfillTesting
import Foundation
import Testing

@testable import BackfillPostgres

/// The state store beside a server that goes away: with the state in the target's database, a
/// worker between two batches reads and writes it while the target restarts.
@Suite(.enabled(if: PostgresFixture.server != nil, "needs the PostgreSQL server scripts/test.sh starts"), .timeLimit(.minutes(3)))
struct PostgresStateStoreOutageTests {
    @Test("calls made while the server is stopped are made again until it is back: each succeeds, and each chunk is claimed once")
    func callsOutliveAStoppedServer() async throws {
        let cluster = try await PrivateCluster.start()
        do {
            let dsn = cluster.server.dsn(try await cluster.server.createDatabase("outage"))
            let created = try await PostgresStateStore.open(dsn, create: true)
            created.database.close()
            // A short connect timeout: while the server is away each call waits connect timeout +
            // statement timeout + 5 s before it is made again.
            let store = try await PostgresStateStore.open(dsn + "&connect_timeout=5", create: false)
            defer { store.database.close() }
            let run = try await store.createRun(NewRun(
                job: "outage", specFingerprint: "f",
                chunks: [ChunkPlan(index: 0, range: .all, estimatedRows: 10), ChunkPlan(index: 1, range: .all, estimatedRows: 10)],
                owner: "test"))

            try await cluster.shutDown()
            async let directives = store.directives(runID: run.id)
            async let claimed = store.claimChunk(runID: run.id)
            async let beat: Void = store.heartbeat(runID: run.id)
            async let event: Void = store.recordEvent(runID: run.id, kind: "note", message: "written during the outage")
            // The server comes back once the calls have found it gone.
            while store.repeatedCalls < 4 { try await Task.sleep(for: .milliseconds(10)) }
            try await cluster.startAgain()

            #expect(try await directives?.status == .running)
            let first = try #require(try await claimed)
            try await beat
            try await event
            #expect(first.index == 0 && first.generation == 1, "the chunk was claimed once")
            let second = try #require(try await store.claimChunk(runID: run.id))
            #expect(second.index == 1)
            #expect(try await store.claimChunk(runID: run.id) == nil)
            #expect(try await store.events(runID: run.id).filter { $0.kind == "note" }.count == 1)
        } catch {
            await cluster.stop()
            throw error
        }
        await cluster.stop()
    }

    @Test("a claim whose answer was lost finds its chunk by its tag — only its own, only while this process holds it")
    func lostClaimIsFound() async throws {
        let server = try #require(PostgresFixture.server)
        let dsn = server.dsn(try await server.createDatabase("claim"))
        let opened = try await PostgresStateStore.open(dsn, create: true)
        defer { opened.database.close() }
        let store = PostgresStateStore(database: opened.database, owner: "test:1")
        let other = PostgresStateStore(database: opened.database, owner: "test:2")
        let run = try await store.createRun(NewRun(
            job: "claim", specFingerprint: "f",
            chunks: [ChunkPlan(index: 0, range: .all, estimatedRows: 10), ChunkPlan(index: 1, range: .all, estimatedRows: 10)],
            owner: "test"))

        // The claim commits; its answer never arrives.
        _ = try await store.claimChunk(runID: run.id, tag: "lost")
        let found = try #require(try await store.chunk(claimedBy: "lost", runID: run.id))
        #expect(found.index == 0 && found.generation == 1 && found.status == .running)
        #expect(try await store.chunk(claimedBy: "another", runID: run.id) == nil)
        #expect(try await other.chunk(claimedBy: "lost", runID: run.id) == nil, "another process's claim is not this one's")
        #expect(try await store.claimChunk(runID: run.id)?.index == 1, "the next claim takes the next chunk")

        try await store.releaseChunk(id: found.id)
        #expect(try await store.chunk(claimedBy: "lost", runID: run.id) == nil, "a released chunk is no claim's any more")
    }
}
