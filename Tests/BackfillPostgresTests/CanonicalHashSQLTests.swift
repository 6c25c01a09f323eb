import BackfillCore
import BackfillTesting
import Foundation
import PostgresNIO
import Testing

@testable import BackfillCore
@testable import BackfillPostgres

/// The bytes PostgreSQL builds in SQL for a row (`PostgresCanonicalHashSQL`) must be the bytes the
/// other engine's side builds in Swift (`CanonicalRowEncoder`) for the value the run compares:
/// - across into PostgreSQL, the stored value brought to its type's canonical form, as `verify` reads it;
/// - out of PostgreSQL into SQLite, the value the run reads, converted by the SQLite column's affinity.
/// Rows whose bytes agree are left alone by a run, so every value of every type is checked here
/// against the server, edge values included.
@Suite(.enabled(if: PostgresFixture.server != nil, "needs the PostgreSQL server scripts/test.sh starts"), .timeLimit(.minutes(2)))
struct CanonicalHashSQLTests {
    static let cases: [(declared: String, name: String, values: [String?])] = [
        ("bigint", "int8", ["0", "-1", "9223372036854775807", "-9223372036854775808", nil]),
        ("integer", "int4", ["42", "-2147483648"]),
        ("smallint", "int2", ["7"]),
        ("double precision", "float8", ["0.1", "-0", "0", "NaN", "Infinity", "-Infinity", "1e308", "4.9e-324", "5", "1e15", "123456.789", nil]),
        ("real", "float4", ["0.33333334", "-0", "3.4e38", "1e-45", "NaN", "2"]),
        ("numeric", "numeric", ["1.50", "0.000", "-0.5", "100", "12345678901234567890.1230", "NaN", "Infinity", "-Infinity", "1e-20", nil]),
        ("numeric(12,2)", "numeric", ["1.5", "-0.00", "10.10", "12.00"]),
        ("numeric", "numeric", [
            "12.000", "9007199254740993", "9007199254740993.00", "99999999999999999.0", "0.1", "0.12345678901234567", "0.30000000000000004",
            "12345678901234567890", "-9223372036854775808", "9223372036854775808", "1e-5", "123456789012345.5", extremes.sorted()[0],
            extremes.sorted()[1], "4.9e-324",
        ]),
        ("boolean", "bool", ["true", "false", nil]),
        ("bytea", "bytea", ["\\x", "\\x00ff10", nil]),
        ("uuid", "uuid", ["6BA7B810-9DAD-11D1-80B4-00C04FD430C8"]),
        ("text", "text", ["", " x ", "caf\u{E9}", "cafe\u{301}", "tab\there", "line\nbreak", "N", nil]),
        ("character varying(10)", "varchar", ["abc"]),
        ("character(5)", "bpchar", ["ab"]),
        ("json", "json", [#"{"b": 1,  "a": [1, 2]}"#]),
        ("date", "date", ["2024-02-29", "0001-01-01", "0044-03-15 BC", "infinity", "-infinity", "9999-12-31"]),
        ("timestamp with time zone", "timestamptz", [
            "2024-01-01 00:00:00+00", "2024-01-01 02:00:00.5+02", "2024-06-30 23:59:59.999999-07", "1000-01-01 00:00:00+00",
            "1582-10-15 00:30:00+01", "0001-01-01 00:00:00+00", "0044-03-15 12:00:00+00 BC", "9999-12-31 23:59:59+00", "infinity",
            "-infinity", nil,
        ]),
        ("timestamp without time zone", "timestamp", [
            "2024-01-01 00:00:00", "2024-01-01 10:20:30.123", "1500-02-28 00:00:00", "0001-01-01 00:00:00", "infinity",
        ]),
        ("time without time zone", "time", ["10:20:30.5"]),
        ("interval", "interval", ["1 day 02:00:00"]),
        ("text[]", "_text", ["{a,\"b c\",NULL}"]),
        ("jsonb[]", "_jsonb", [#"{"{\"a\": 1}"}"#]),
    ]

    /// The value of `type` stored from `text`, each row's token built by `token`, and the text the run reads back.
    private func tokens(
        _ declared: String, values: [String?], in databaseName: String = "postgres", token: (String) -> String?
    ) async throws -> [(read: String?, token: String)] {
        let server = try #require(PostgresFixture.server)
        let database = try await PostgresDatabase.connect(server.dsn(databaseName))
        defer { database.close() }
        let sql = try #require(token("v"), "\(declared) has a token")
        var binds = PostgresBindings()
        for value in values {
            if let value { binds.append(value) } else { binds.appendNull() }
        }
        let list = values.indices.map { "(\($0), CAST($\($0 + 1)::text AS \(declared)))" }.joined(separator: ", ")
        let rows = try await database.textRows(
            PostgresQuery(unsafeSQL: "SELECT \"v\"::text, \(sql) FROM (VALUES \(list)) s(i, \"v\") ORDER BY i", binds: binds), "tokens")
        #expect(rows.count == values.count)
        return rows.map { ($0[0], $0[1] ?? "<NULL token>") }
    }

    private func swiftToken(_ value: Value) -> String {
        var bytes: [UInt8] = []
        CanonicalRowEncoder.append(value, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    @Test("into PostgreSQL: the SQL token of a stored value is the token of its canonical form as verify reads it", arguments: cases.indices)
    func canonicalTokens(_ index: Int) async throws {
        let (declared, name, values) = Self.cases[index]
        let type = PostgresColumnType(name: name, formatted: declared)
        for row in try await tokens(declared, values: values, token: { PostgresCanonicalHashSQL.canonicalToken($0, type: type) }) {
            let expected = swiftToken(type.canonicalKind.canonical(type.value(fromText: row.read)))
            #expect(row.token == expected, "\(declared) \(row.read ?? "NULL")")
        }
    }

    @Test("a database whose default time zone is not UTC: backfill's sessions still read in UTC, and timestamptz tokens agree")
    func otherTimeZone() async throws {
        let server = try #require(PostgresFixture.server)
        let name = try await server.createDatabase("kolkata")
        try await server.psql("postgres", "ALTER DATABASE \(name) SET timezone = 'Asia/Kolkata'")
        let type = PostgresColumnType(name: "timestamptz", formatted: "timestamp with time zone")
        let values = ["2024-01-01 00:00:00+00", "1850-06-01 12:00:00+00", "2024-06-30 18:29:59.25+00", "0001-01-01 00:00:00+00"]
        let rows = try await tokens("timestamptz", values: values, in: name, token: { PostgresCanonicalHashSQL.canonicalToken($0, type: type) })
        #expect(rows.first?.read == "2024-01-01 00:00:00+00", "backfill's sessions set TimeZone=UTC")
        for row in rows {
            #expect(row.token == swiftToken(type.canonicalKind.canonical(type.value(fromText: row.read))), "\(row.read ?? "NULL")")
        }
        #expect(rows.first?.token == "t20:2024-01-01T00:00:00Z")
    }

    @Test("jsonb has no canonical form in SQL: the run takes the row path")
    func jsonbHasNone() {
        #expect(PostgresCanonicalHashSQL.canonicalToken("v", type: PostgresColumnType(name: "jsonb", formatted: "jsonb")) == nil)
    }

    static let affinities: [ColumnAffinity] = [.integer, .real, .numeric, .text, .blob]
    /// Magnitudes PostgreSQL cannot cast to `float8`: their token never matches (`Q`), whatever SQLite would hold.
    static let extremes: Set<String> = ["1" + String(repeating: "0", count: 400), "0." + String(repeating: "0", count: 399) + "1"]

    @Test("into SQLite: the SQL token is the token of the value the run writes, for every affinity the direction supports", arguments: cases.indices)
    func writtenTokens(_ index: Int) async throws {
        let (declared, name, values) = Self.cases[index]
        let type = PostgresColumnType(name: name, formatted: declared)
        for affinity in Self.affinities {
            guard PostgresCanonicalHashSQL.writtenToken("v", type: type, into: affinity) != nil else { continue }
            for row in try await tokens(declared, values: values, token: { PostgresCanonicalHashSQL.writtenToken($0, type: type, into: affinity) }) {
                let read = type.value(fromText: row.read)
                let converted = affinity.convert(read, strict: false) ?? read
                // A value the run refuses (quarantines) must never match: `Q` is no token's tag.
                let refused = ValueFit.sqlite.rejection(of: converted, convertedFrom: read) != nil
                let expected = refused ? "Q" : swiftToken(converted)
                let extreme = Self.extremes.contains(row.read ?? "")
                #expect(row.token == expected || (extreme && row.token == "Q"), "\(declared) \(row.read ?? "NULL") into \(affinity)")
            }
        }
    }

    @Test("what has no exact SQL form into SQLite is refused: text other than numeric into numeric affinities, floats into TEXT")
    func unsupportedDirections() {
        let numeric = PostgresColumnType(name: "numeric", formatted: "numeric")
        let float = PostgresColumnType(name: "float8", formatted: "double precision")
        let text = PostgresColumnType(name: "text", formatted: "text")
        #expect(PostgresCanonicalHashSQL.writtenToken("v", type: text, into: .numeric) == nil)
        #expect(PostgresCanonicalHashSQL.writtenToken("v", type: text, into: .integer) == nil)
        #expect(PostgresCanonicalHashSQL.writtenToken("v", type: float, into: .text) == nil)
        #expect(PostgresCanonicalHashSQL.writtenToken("v", type: numeric, into: .numeric) != nil)
        #expect(PostgresCanonicalHashSQL.writtenToken("v", type: numeric, into: .text) != nil)
    }

    @Test("the hash is the first 8 bytes of the MD5, as a signed bigint (md5('abc') = 900150983cd24fb0…)")
    func md5Prefix() async throws {
        let server = try #require(PostgresFixture.server)
        let database = try await PostgresDatabase.connect(server.dsn("postgres"))
        defer { database.close() }
        let rows = try await database.textRows(
            PostgresQuery(unsafeSQL: "SELECT \(PostgresCanonicalHashSQL.hash(prefix: "a", tokens: ["'bc'"]))::text"), "hashing")
        #expect(rows.first?.first == "-8070080442485551184")
    }
}
