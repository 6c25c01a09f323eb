import BackfillCore
import Foundation
import PropertyBased
import Testing

/// One definition of "equal" for reals: NaN equals NaN (as in PostgreSQL), −0 equals 0; values a
/// target cannot hold are refused with a reason instead of being written as another value.
@Suite struct ExactValueTests {
    @Test func nanIsOneValue() {
        #expect(Value.real(.nan).isSameStoredValue(as: .real(.nan)))
        #expect(Value.real(-.nan).isSameStoredValue(as: .real(.nan)))
        #expect(!Value.real(.nan).isSameStoredValue(as: .real(1)))
        #expect(!Value.real(.nan).isSameStoredValue(as: .null))
        #expect(Value.compare(.real(.nan), .real(.nan)) == 0)
        #expect(Value.compare(.real(.nan), .real(.infinity)) > 0, "NaN sorts above every number, as in PostgreSQL")
        #expect(RowDigest.hash([.real(.nan)]) == RowDigest.hash([.real(-.nan)]))
        #expect(Value.real(-0.0).isSameStoredValue(as: .real(0)))
    }

    @Test func sqliteRefusesNaN() {
        #expect(ValueFit.sqlite.rejection(of: .real(.nan))?.contains("NaN") == true)
        #expect(ValueFit.sqlite.rejection(of: .real(.infinity)) == nil)
        #expect(ValueFit.sqlite.rejection(of: .text("NaN")) == nil)
    }

    @Test func float4TakesOnlyExactFloat4Values() {
        let third = Double(Float(1) / 3)
        #expect(ValueFit.float4.rejection(of: .real(third)) == nil)
        #expect(ValueFit.float4.rejection(of: .real(1.0 / 3))?.contains("float4") == true)
        #expect(ValueFit.float4.rejection(of: .real(.nan)) == nil)
        #expect(ValueFit.float4.rejection(of: .real(-.infinity)) == nil)
        #expect(ValueFit.float4.rejection(of: .integer(7)) == nil)
    }

    @Test func everyDoubleEqualsItselfAndDiffersFromItsNeighbour() async {
        await propertyCheck(count: 500, input: Gen.double(in: -1e300...1e300)) { value in
            #expect(Value.real(value).isSameStoredValue(as: .real(value)))
            #expect(!Value.real(value).isSameStoredValue(as: .real(value.nextUp)), "one ULP is a difference")
            #expect(RowDigest.hash([.real(value)]) == RowDigest.hash([.real(value)]))
        }
    }

    @Test func shaperQuarantinesWhatTheColumnCannotHold() throws {
        let spec = JobSpec(
            name: "t", source: Endpoint(kind: .postgres, location: "postgres://h/db", table: "s"),
            target: Endpoint(kind: .sqlite, location: "t.db", table: "t"), key: ["id"])
        let job = ResolvedJob(
            spec: spec, columns: ["id", "x"],
            targetColumns: [ColumnDescription(name: "id", declaredType: "INTEGER", fit: .sqlite), ColumnDescription(name: "x", declaredType: "REAL", fit: .sqlite)])
        let shaper = RowShaper(job: job, strict: false)
        guard case .failure(let rejection) = shaper.shape([.integer(1), .real(.nan)]) else {
            Issue.record("a NaN into SQLite was accepted")
            return
        }
        #expect(rejection.reason.contains("column 'x'"))
        #expect(rejection.reason.contains("NULL"))
        if case .failure = shaper.shape([.integer(2), .real(2.5)]) { Issue.record("a plain real was refused") }
    }
}

/// Values survive the state store's JSON (cursors, quarantined rows) exactly, NaN and ±Infinity too.
@Suite struct ValueJSONTests {
    @Test(arguments: [Value.real(.nan), .real(.infinity), .real(-.infinity), .real(-0.0), .real(Double.leastNonzeroMagnitude), .real(-Double.greatestFiniteMagnitude), .integer(.min), .text(""), .null])
    func roundTrips(_ value: Value) throws {
        let text = try StateJSON.encode([value])
        let back = try #require(try StateJSON.decode([Value].self, text))
        #expect(back.count == 1 && back[0].isSameStoredValue(as: value), "\(text)")
        if case .real(let v) = value, case .real(let w) = back[0] { #expect(v.sign == w.sign) }
    }

    @Test func anyDoubleRoundTrips() async {
        await propertyCheck(count: 500, input: Gen.double(in: -1e300...1e300)) { double in
            let back = try? StateJSON.decode([Value].self, try StateJSON.encode([Value.real(double)]))
            #expect(back == [.real(double)])
        }
    }
}

/// Numeric text SQLite would turn into a REAL with fewer digits is refused, not rounded.
@Suite struct SQLiteNumericTextTests {
    @Test func lossyNumericTextIsRefused() {
        let affinity = ColumnAffinity(declaredType: "NUMERIC")
        for text in ["1234567890123456789012345678901234567890.123", "3.14159265358979323846", "12345678901234567890"] {
            let converted = affinity.convert(.text(text), strict: false) ?? .null
            #expect(ValueFit.sqlite.rejection(of: converted, convertedFrom: .text(text))?.contains("more digits than a SQLite REAL holds") == true, "\(text)")
        }
        // Integral text that is read through a double would arrive as another integer.
        for text in ["99999999999999999.0", "9007199254740993.00", "1.23456789012345678e17"] {
            let converted = affinity.convert(.text(text), strict: false) ?? .null
            #expect(ValueFit.sqlite.rejection(of: converted, convertedFrom: .text(text))?.contains("more digits than SQLite keeps") == true, "\(text) → \(converted)")
        }
        for text in ["1.25", "-9999999999.99", "0.00", "1e3", "0.1", "9007199254740993", "12.000", "1234567890123456.0"] {
            let converted = affinity.convert(.text(text), strict: false) ?? .null
            #expect(ValueFit.sqlite.rejection(of: converted, convertedFrom: .text(text)) == nil, "\(text) → \(converted)")
        }
    }
}

/// `Retry-After` parsing never traps, whatever the server sends (cases found by fuzzing).
@Suite struct RetryAfterTests {
    /// The input libFuzzer found: an HTTP-date with bytes that are not ASCII made DateFormatter trap.
    static let fuzzed = String(decoding: [0x57, 0x65, 0x64, 0x2c, 0x20, 0x32, 0x31, 0xde, 0xb0, 0x9c, 0x8b, 0x20, 0x32, 0x30, 0x31, 0x35, 0x20, 0x30, 0x37, 0x3a, 0x32, 0x38, 0x3a, 0x30, 0x30, 0x20, 0x47, 0x4d, 0x54] as [UInt8], as: UTF8.self)

    @Test(arguments: ["1e300", "inf", "Infinity", "nan", "-1", fuzzed, "\u{0}", String(repeating: "9", count: 400)])
    func hostileValuesAreCappedOrIgnored(_ value: String) {
        let cap = Duration.seconds(300)
        if let delay = RetryAfter.delay(value, cap: cap) { #expect(delay >= .zero && delay <= cap) }
    }

    @Test func readsSecondsAndDates() {
        #expect(RetryAfter.delay("120") == .seconds(120))
        #expect(RetryAfter.delay("1e300") == .seconds(300))
        let now = Date(timeIntervalSince1970: 1_445_412_460)  // 07:27:40 GMT
        #expect(RetryAfter.delay("Wed, 21 Oct 2015 07:28:00 GMT", now: now) == .seconds(20))
    }
}

/// A PostgreSQL column with a scale or a precision takes only values it need not round.
@Suite struct PrecisionFitTests {
    @Test func decimalPlaces() {
        let fit = ValueFit.decimalPlaces(2)
        for fits in [Value.text("1.25"), .text("12.340"), .text("-9999999999.99"), .text("0.00"), .text("1e3"), .integer(7), .real(2.5), .text("NaN"), .null] {
            #expect(fit.rejection(of: fits) == nil, "\(fits)")
        }
        for rounds in [Value.text("1.005"), .text("0.001"), .real(0.125), .text("1.2345e1")] {
            #expect(fit.rejection(of: rounds)?.contains("more than 2 decimal places") == true, "\(rounds)")
        }
    }

    @Test func secondFractionDigits() {
        let fit = ValueFit.secondFractionDigits(3)
        for fits in ["2024-01-01 00:00:00", "2024-01-01 00:00:00.123", "2024-01-01 00:00:00.120000+05:30", "12:00:00.5", "2024-01-01T00:00:00Z"] {
            #expect(fit.rejection(of: .text(fits)) == nil, "\(fits)")
        }
        for rounds in ["2024-01-01 00:00:00.1234", "2024-01-01 00:00:00.123456+00", "23:59:59.9999"] {
            #expect(fit.rejection(of: .text(rounds))?.contains("finer than 3 digits") == true, "\(rounds)")
        }
        #expect(ValueFit.secondFractionDigits(0).rejection(of: .text("2024-01-01 00:00:00.5")) != nil)
    }
}
