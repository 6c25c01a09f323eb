import BackfillCore
import BackfillTesting
import PostgresNIO
import Testing

@testable import BackfillPostgres

/// A process stalled inside a transaction (SIGSTOP, a frozen VM) must not hold its locks past its
/// lease: they include the state rows every worker's checkpoint updates.
@Suite(.enabled(if: PostgresFixture.server != nil, "needs the PostgreSQL server scripts/test.sh starts"))
struct PostgresStalledTransactionTests {
    @Test("a transaction left idle past the limit is ended by the server: its row locks are freed, and its next statement fails as transient")
    func idleTransactionIsEnded() async throws {
        let server = try #require(PostgresFixture.server)
        let dsn = server.dsn(try await server.createDatabase("stalled"))
        let stalled = try await PostgresDatabase.connect(dsn, timeouts: PostgresTimeouts(lock: 30, statement: 60, idleInTransaction: 1))
        let other = try await PostgresDatabase.connect(dsn, timeouts: PostgresTimeouts(lock: 30, statement: 60))
        defer { stalled.close(); other.close() }
        try await other.execute("CREATE TABLE shared (id int PRIMARY KEY, n int NOT NULL)")
        try await other.execute("INSERT INTO shared VALUES (1, 0)")
        #expect(try await stalled.textRows("SHOW idle_in_transaction_session_timeout", "test").first?[0] == "1s")

        let (locked, lockedSignal) = AsyncStream<Void>.makeStream()
        let (resume, resumeSignal) = AsyncStream<Void>.makeStream()
        let holder = Task {
            try await stalled.transaction("holding a row lock") { connection in
                try await connection.checkedQuery("UPDATE shared SET n = n + 1 WHERE id = 1", logger: stalled.logger)
                lockedSignal.yield()
                // Stalled: the session sits idle in its transaction until the test lets it go on.
                for await _ in resume { break }
                try await connection.checkedQuery("UPDATE shared SET n = n + 1 WHERE id = 1", logger: stalled.logger)
            }
        }
        for await _ in locked { break }
        // Waits for the row lock (up to its 30 s lock timeout, a safety net): the server ends the
        // stalled session after 1 s, which rolls its update back and frees the lock.
        try await other.execute("UPDATE shared SET n = n + 10 WHERE id = 1")
        resumeSignal.yield()
        await #expect {
            try await holder.value
        } throws: { error in
            // At once: postgres-nio alone would wait out the client's deadline on the closed connection.
            (error as? BackfillError)?.kind == .transient && "\(error)".contains("the server closed the connection")
        }
        #expect(try await other.textRows("SELECT n::text FROM shared", "test").first?[0] == "10", "the stalled update was rolled back")
    }

    @Test("the limit follows the lease, but is never under a second")
    func limitFollowsTheLease() {
        #expect(PostgresTimeouts.idleLimit(lease: .seconds(15)) == 15)
        #expect(PostgresTimeouts.idleLimit(lease: .milliseconds(300)) == 1)
    }
}
