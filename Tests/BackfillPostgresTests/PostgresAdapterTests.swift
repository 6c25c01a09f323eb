import BackfillCore
import BackfillTesting
import Foundation
import PostgresNIO
import Synchronization
import Testing

@testable import BackfillPostgres

@Suite struct PostgresDSNTests {
    @Test("the password never appears in the description, and percent-encoded parts decode")
    func passwordStaysSecret() throws {
        let dsn = try PostgresDSN("postgres://app:s3cr%40t@db.internal:6543/orders?sslmode=require&connect_timeout=3")
        #expect(dsn.description == "postgres://app@db.internal:6543/orders")
        #expect(dsn.password == "s3cr@t")
        #expect(dsn.tls == .require)
        #expect(dsn.connectTimeout == .seconds(3))
        #expect(!String(describing: dsn).contains("s3cr"))
    }

    @Test("unknown parameters and bad values are refused by name, without the password")
    func badParameters() {
        for text in ["postgres://u:pw@h/db?sslmod=disable", "postgres://u:pw@h/db?sslmode=maybe", "mysql://u:pw@h/db", "postgres:///db"] {
            #expect {
                try PostgresDSN(text)
            } throws: { error in
                let message = String(describing: error)
                return (error as? BackfillError)?.code == .invalidInput && !message.contains("pw@")
            }
        }
    }
}

@Suite struct PostgresColumnTypeTests {
    @Test("text forms become typed values where the type has one, text otherwise")
    func typing() {
        #expect(PostgresColumnType(name: "int8", formatted: "bigint").value(fromText: "-42") == .integer(-42))
        #expect(PostgresColumnType(name: "bool", formatted: "boolean").value(fromText: "true") == .integer(1))
        #expect(PostgresColumnType(name: "bool", formatted: "boolean").value(fromText: "false") == .integer(0))
        #expect(PostgresColumnType(name: "bytea", formatted: "bytea").value(fromText: "\\x00ff10") == .blob([0, 255, 16]))
        #expect(PostgresColumnType(name: "numeric", formatted: "numeric(12,2)").value(fromText: "1.50") == .text("1.50"))
        #expect(PostgresColumnType(name: "float8", formatted: "double precision").value(fromText: "-Infinity") == .real(-.infinity))
        #expect(PostgresColumnType(name: "int4", formatted: "integer").value(fromText: nil) == .null)
    }

    @Test("arrays of portable types cross engines; geometric types do not")
    func portability() {
        #expect(PostgresColumnType(name: "_int8", formatted: "bigint[]").crossesEngines)
        #expect(PostgresColumnType(name: "jsonb", formatted: "jsonb").crossesEngines)
        #expect(!PostgresColumnType(name: "point", formatted: "point").crossesEngines)
    }

    @Test("SQLSTATEs are classified: retry, quarantine, or stop")
    func classification() {
        #expect(PostgresErrors.classify(sqlState: "40P01") == .transient)
        #expect(PostgresErrors.classify(sqlState: "55P03") == .transient)
        #expect(PostgresErrors.classify(sqlState: "08006") == .transient)
        #expect(PostgresErrors.classify(sqlState: "23505") == .data)
        #expect(PostgresErrors.classify(sqlState: "22P02") == .data)
        #expect(PostgresErrors.classify(sqlState: "42P01") == .permanent)
        #expect(PostgresErrors.classify(sqlState: "42501") == .permanent)
    }
}

@Suite(.enabled(if: PostgresFixture.server != nil, "needs the PostgreSQL server scripts/test.sh starts"))
struct CopyTextEncoderTests {
    @Test("values that need escaping survive COPY into a real table exactly")
    func roundTrip() async throws {
        let server = try #require(PostgresFixture.server)
        let name = try await server.createDatabase("copy")
        try await server.psql(name, "CREATE TABLE t(id bigint PRIMARY KEY, s text, b bytea, f double precision, n numeric)")
        let database = try await PostgresDatabase.connect(server.dsn(name))
        defer { database.close() }
        let hostile = "tab\there, new\nline, cr\r, back\\slash, \\N, quote\" ' and ünïcödé"
        let rows: [[Value]] = [
            [.integer(1), .text(hostile), .blob([0, 1, 92, 255]), .real(0.1), .text("12345678901234567890.000001")],
            [.integer(2), .null, .null, .real(-.infinity), .null],
            [.integer(3), .text(""), .blob([]), .real(1e-300), .integer(7)],
            [.integer(.min), .text("min"), .null, .real(-0.0), .integer(-1)],
            [.integer(.max), .text("max"), .null, .real(-2.2250738585072014e-308), .integer(0)],
            [.integer(-10), .text("\\\\\t\n\r"), .null, .real(.nan), .integer(-9_000_000_000_000_000_000)],
        ]
        var buffer = ByteBufferAllocator().buffer(capacity: 256)
        CopyTextEncoder.encode(rows, into: &buffer)
        let payload = buffer
        try await database.withConnection("copying") { connection in
            try await connection.copyFrom(table: "t", logger: database.logger) { writer in try await writer.write(payload) }
        }
        let read = try await database.textRows(
            "SELECT s, encode(b, 'hex'), f::text, n::text, (s IS NULL)::text FROM t WHERE id IN (1, 2, 3) ORDER BY id", "reading")
        #expect(read[0][0] == hostile)
        #expect(read[0][1] == "00015cff")
        #expect(read[0][2] == "0.1")
        #expect(read[0][3] == "12345678901234567890.000001")
        #expect(read[1][4] == "true")
        #expect(read[1][2] == "-Infinity")
        #expect(read[2][0] == "" && read[2][1] == "")
        #expect(read[2][3] == "7")
        let extremes = try await database.textRows(
            "SELECT id::text, s, f::text, n::text FROM t WHERE id NOT IN (1, 2, 3) ORDER BY t.id", "reading")
        #expect(extremes.map { $0.compactMap { $0 } } == [
            ["-9223372036854775808", "min", "-0", "-1"],
            ["-10", "\\\\\t\n\r", "NaN", "-9000000000000000000"],
            ["9223372036854775807", "max", "-2.2250738585072014e-308", "0"],
        ])
    }
}

@Suite struct CopyTextBytesTests {
    @Test("each row is one line: tab-separated values, \\N, escapes, decimal integers and hex bytes")
    func bytes() {
        var buffer = ByteBufferAllocator().buffer(capacity: 0)
        CopyTextEncoder.encode(
            [
                [.integer(-120), .text("a\tb\\"), .null, .real(.nan), .blob([0xab, 0x01])],
                [.integer(0), .text(""), .real(1.5), .real(.infinity), .blob([])],
                [],
            ], into: &buffer)
        #expect(String(buffer: buffer) == "-120\ta\\tb\\\\\t\\N\tNaN\t\\\\xab01\n0\t\t1.5\tInfinity\t\\\\x\n\n")
    }
}

@Suite struct DeadlineTests {
    @Test("an operation that finishes in time returns its value; its clock is stopped")
    func finishesInTime() async throws {
        let value = try await Deadline.run(within: .seconds(5)) { 42 }
        #expect(value == 42)
    }

    @Test("an operation that never answers (and ignores cancellation) is abandoned at the deadline")
    func abandonsAHungOperation() async throws {
        let hung = HungOperation()
        await #expect(throws: Deadline.Passed.self) {
            try await Deadline.run(within: .milliseconds(200)) {
                // Like a continuation nobody resumes: only the test releases it, after the deadline.
                await withCheckedContinuation { hung.hold($0) }
                return 1
            }
        }
        hung.release()
    }

    @Test("errors of the operation pass through unchanged")
    func errorsPassThrough() async throws {
        struct Boom: Error {}
        await #expect(throws: Boom.self) { try await Deadline.run(within: .seconds(5)) { () throws -> Int in throw Boom() } }
    }
}

/// A continuation held until the test lets it go.
final class HungOperation: Sendable {
    private let held = Mutex<CheckedContinuation<Void, Never>?>(nil)

    func hold(_ continuation: CheckedContinuation<Void, Never>) { held.withLock { $0 = continuation } }

    func release() { held.withLock { $0.take() }?.resume() }
}
