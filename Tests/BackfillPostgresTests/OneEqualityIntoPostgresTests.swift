import BackfillCore
import BackfillTesting
import Foundation
import PostgresNIO
import Testing

@testable import BackfillPostgres

/// Into PostgreSQL, the run's change detection is PostgreSQL's own comparison of the staged value
/// with the stored one (`IS DISTINCT FROM` on the column's type, or on the text of a type without
/// `=`), and verify's is the canonical form of the column's type. For every pair of source and
/// target values of each type — written in the different text forms of equal values a SQLite
/// source or an export hands over — both must say the same.
@Suite(.enabled(if: PostgresFixture.server != nil, "needs the PostgreSQL server scripts/test.sh starts"), .timeLimit(.minutes(2)))
struct OneEqualityIntoPostgresTests {
    static let cases: [(type: String, name: String, values: [String])] = [
        ("numeric", "numeric", ["1.5", "1.50", "15e-1", "2", "2.0", "-0", "0", "0.000", "12345678901234567890.1", "12345678901234567890.10"]),
        ("numeric(12,2)", "numeric", ["1.5", "1.50", "2", "-0.00", "0"]),
        ("double precision", "float8", ["0.1", "1e-1", "0.10000000000000001", "0.30000000000000004", "NaN", "-0", "0", "Infinity", "1e308"]),
        ("real", "float4", ["0.33333334", "0.3333333432674408", "0.5", "NaN", "-0", "0"]),
        ("timestamptz", "timestamptz", [
            "2024-01-01 00:00:00+00", "2024-01-01 02:00:00+02", "2024-01-01T00:00:00Z", "2023-12-31 19:00:00-05",
            "2024-01-01 00:00:00.000001+00", "2024-01-01 00:00:00.5+00", "2024-01-01 00:00:00.50+00",
        ]),
        ("timestamp", "timestamp", ["2024-01-01 00:00:00", "2024-01-01T00:00:00", "2024-01-01 00:00:00.5", "2024-01-01 00:00:00.500", "2024-01-01 00:00:01"]),
        ("date", "date", ["2024-01-01", "2024-01-02", "2023-12-31"]),
        ("jsonb", "jsonb", [
            #"{"a": 1, "b": [1, 2]}"#, #"{"b":[1,2],"a":1}"#, #"{"a": 1.0, "b": [1, 2]}"#, #"{"a": 1, "b": [2, 1]}"#, #"{"a": "1"}"#,
            #"{"a": 10, "b": [1, 2]}"#, "[]", "{}", "null",
        ]),
        ("json", "json", [#"{"a": 1}"#, #"{"a":1}"#, #"{"a": 1.0}"#, "[]", "[ ]"]),
        ("uuid", "uuid", ["6ba7b810-9dad-11d1-80b4-00c04fd430c8", "6BA7B810-9DAD-11D1-80B4-00C04FD430C8", "6ba7b811-9dad-11d1-80b4-00c04fd430c8"]),
        ("boolean", "bool", ["true", "t", "1", "false", "f", "0"]),
        ("text", "text", ["", " ", "a", "A", "caf\u{E9}", "cafe\u{301}"]),
        ("bigint", "int8", ["1", "01", "-0", "0", "9223372036854775807"]),
    ]

    @Test("sink unchanged ⇔ verify equal, for every pair of values of each type", arguments: cases.indices)
    func oneDefinitionOfEqual(_ index: Int) async throws {
        let (declared, name, values) = Self.cases[index]
        let server = try #require(PostgresFixture.server)
        let database = try await PostgresDatabase.connect(server.dsn("postgres"))
        defer { database.close() }
        let type = PostgresColumnType(name: name, formatted: declared)
        let comparable = { (side: String) in
            type.hashesNatively ? "CAST(\(side).v AS \(declared))" : "CAST(\(side).v AS \(declared))::text"
        }
        var binds = PostgresBindings()
        for value in values { binds.append(value) }
        let list = values.indices.map { "(\($0), $\($0 + 1)::text)" }.joined(separator: ", ")
        let query = PostgresQuery(
            unsafeSQL: """
                SELECT s.i::text, t.i::text, (\(comparable("s")) IS DISTINCT FROM \(comparable("t")))::text, CAST(t.v AS \(declared))::text
                FROM (VALUES \(list)) s(i, v), (VALUES \(list)) t(i, v)
                """, binds: binds)
        let rows = try await database.textRows(query, "comparing pairs")
        #expect(rows.count == values.count * values.count)
        let shaper = ColumnDescription(name: "v", declaredType: declared, affinity: type.affinity)
        for row in rows {
            guard let s = row[0].flatMap(Int.init), let distinct = row[2] else { continue }
            // The source value as a run types it for this column, and the stored one as verify reads it.
            let source = shaper.affinity.convert(.text(values[s]), strict: true) ?? .text(values[s])
            let stored = type.value(fromText: row[3])
            let kind = type.canonicalKind
            let verifyEqual = kind.canonical(source).isSameStoredValue(as: kind.canonical(stored))
            #expect(verifyEqual == (distinct == "false"), "\(declared): source \(values[s]) vs stored \(row[3] ?? "NULL") — PostgreSQL says \(distinct == "false" ? "equal" : "different"), verify says \(verifyEqual ? "equal" : "different")")
        }
    }
}
