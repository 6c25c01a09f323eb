@testable import BackfillCore
import PropertyBased
import Testing

/// Into SQLite, the run's change detection and verify's comparison are one definition: for any
/// source value and stored target value, the sink finds the row unchanged exactly when verify finds
/// it equal — whatever the target column's affinity.
@Suite struct OneEqualityPropertyTests {
    /// Values that stress the definitions: extremes, NaN, ±Infinity, −0, integral reals, numeric and
    /// non-numeric text, scales (`1.50`), NULL.
    static let values: [Value] = [
        .null, .integer(0), .integer(1), .integer(-1), .integer(.max), .integer(.min), .real(0), .real(-0.0), .real(1), .real(1.5),
        .real(.nan), .real(.infinity), .real(-.infinity), .real(1.0 / 3), .real(Double(Float(1.0 / 3))), .text(""), .text("1"),
        .text("1.5"), .text("1.50"), .text("1e3"), .text(" 7 "), .text("NaN"), .text("abc"), .text("caf\u{E9}"), .text("cafe\u{301}"),
        .blob([]), .blob([0, 1]),
    ]
    static let affinities: [String] = ["INTEGER", "REAL", "NUMERIC", "TEXT", "BLOB", "BOOLEAN", ""]

    static func job(_ declaredType: String) -> ResolvedJob {
        let spec = JobSpec(
            name: "p", source: Endpoint(kind: .postgres, location: "postgres://h/db", table: "s"),
            target: Endpoint(kind: .sqlite, location: "t.db", table: "t"), key: ["id"])
        return ResolvedJob(
            spec: spec, columns: ["id", "v"],
            targetColumns: [ColumnDescription(name: "id", declaredType: "INTEGER", fit: .sqlite), ColumnDescription(name: "v", declaredType: declaredType, fit: .sqlite)])
    }

    @Test func sinkUnchangedIffVerifyEqual() async {
        let value = Gen<Value?>.element(of: Self.values).map { $0! }
        let affinity = Gen<String?>.element(of: Self.affinities).map { $0! }
        await propertyCheck(count: 2_000, input: value, value, affinity) { source, stored, declared in
            let job = Self.job(declared)
            // What the run writes and how it decides "unchanged": the shaped value against the stored one.
            guard case .success(let shaped) = RowShaper(job: job, strict: false).shape([.integer(1), source]) else { return }
            let unchanged = shaped[1].isSameStoredValue(as: stored)
            var report = VerifyReport(job: "p")
            RowComparer(job: job, reportLimit: 10).compare([[.integer(1), source]], [[.integer(1), stored]], report: &report)
            #expect(unchanged == (report.different == 0), "\(source) → \(declared) column holding \(stored)")
        }
    }
}
