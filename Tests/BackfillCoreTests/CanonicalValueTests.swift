import Foundation
import Testing

@testable import BackfillCore

@Suite struct CanonicalValueTests {
    @Test("decimals lose scale, exponent and sign of zero, and nothing else", arguments: [
        ("12.50", "12.5"), ("12", "12"), ("0012.000", "12"), ("-0.0", "0"), ("+3.10", "3.1"), ("1e-05", "0.00001"),
        ("1.5E3", "1500"), (".5", "0.5"), ("-7.25e1", "-72.5"), ("123456789012345678901234567890.100", "123456789012345678901234567890.1"),
    ])
    func decimals(_ text: String, _ canonical: String) {
        #expect(CanonicalKind.decimal.canonical(.text(text)) == .text(canonical))
    }

    @Test("reals and integers meet decimals in the same form")
    func numbersAsDecimals() {
        #expect(CanonicalKind.decimal.canonical(.real(12.5)) == .text("12.5"))
        #expect(CanonicalKind.decimal.canonical(.real(0.1)) == .text("0.1"))
        #expect(CanonicalKind.decimal.canonical(.integer(-3)) == .text("-3"))
        #expect(CanonicalKind.decimal.canonical(.text("12,5")) == .text("12,5"), "not a number: compared as it is")
    }

    @Test("timestamps with any offset become the same UTC instant", arguments: [
        "2024-01-01T02:00:00+02:00", "2024-01-01 00:00:00+00", "2024-01-01T00:00:00Z", "2024-01-01 00:00:00", "2023-12-31T19:00:00-05",
        "2024-01-01T05:30:00.000+05:30",
    ])
    func timestamps(_ text: String) {
        #expect(CanonicalKind.timestamp.canonical(.text(text)) == .text("2024-01-01T00:00:00Z"))
    }

    @Test("fractions of a second are kept, trailing zeros dropped; local timestamps keep their clock time")
    func fractions() {
        #expect(CanonicalKind.timestamp.canonical(.text("2024-01-01 00:00:01.500+00")) == .text("2024-01-01T00:00:01.5Z"))
        #expect(CanonicalKind.timestamp.canonical(.text("2024-01-01 00:00:01.000001+00")) == .text("2024-01-01T00:00:01.000001Z"))
        #expect(CanonicalKind.localTimestamp.canonical(.text("2024-01-01 10:00:00")) == .text("2024-01-01T10:00:00"))
        #expect(CanonicalKind.timestamp.canonical(.text("yesterday")) == .text("yesterday"))
    }

    @Test("a UTC date-time applies the offset and has no suffix, so its text orders as the time does")
    func utcDateTimes() {
        #expect(CanonicalKind.utcDateTime.canonical(.text("2024-01-01 15:30:00.1+05:30")) == .text("2024-01-01T10:00:00.1"))
        #expect(CanonicalKind.utcDateTime.canonical(.text("2024-01-01 10:00:00.000")) == .text("2024-01-01T10:00:00"))
        let times = ["2024-01-01 10:00:00", "2024-01-01 10:00:00.05", "2024-01-01 10:00:00.250", "2024-01-01 10:00:00.5", "2024-01-01 10:00:00.55"]
        let canonical = times.map { CanonicalKind.utcDateTime.canonical(.text($0)) }
        for (earlier, later) in zip(canonical, canonical.dropFirst()) {
            #expect(Value.compare(earlier, later) < 0, "\(earlier) before \(later)")
        }
    }

    @Test("JSON compares without key order or spacing; NULL is never an empty string or zero")
    func jsonAndNull() {
        #expect(CanonicalKind.json.canonical(.text(#"{"b": 2,  "a": [1, {"d": null, "c": "x"}]}"#))
            == .text(#"{"a":[1,{"c":"x","d":null}],"b":2}"#))
        #expect(CanonicalKind.text.canonical(.null) == .null)
        #expect(CanonicalKind.text.canonical(.text("")) != .null)
        #expect(CanonicalKind.decimal.canonical(.integer(0)) != CanonicalKind.decimal.canonical(.null))
    }

    @Test("booleans, uuids and bytes")
    func others() {
        #expect(CanonicalKind.boolean.canonical(.text("t")) == .integer(1))
        #expect(CanonicalKind.boolean.canonical(.text("false")) == .integer(0))
        #expect(CanonicalKind.uuid.canonical(.text("6BA7B810-9DAD-11D1-80B4-00C04FD430C8")) == .text("6ba7b810-9dad-11d1-80b4-00c04fd430c8"))
        #expect(CanonicalKind.bytes.canonical(.text("\\x00ff")) == .blob([0, 255]))
        #expect(CanonicalKind.date.canonical(.text("2024-02-03T00:00:00Z")) == .text("2024-02-03"))
    }
}

@Suite struct CanonicalCalendarTests {
    @Test("offsets apply in the proleptic Gregorian calendar PostgreSQL counts in, before 1582 and across the ends of months and years", arguments: [
        ("1582-10-15 00:30:00+01", "1582-10-14T23:30:00Z"), ("1500-03-01 00:00:00+01", "1500-02-28T23:00:00Z"),
        ("2024-03-01 00:00:00+00:30", "2024-02-29T23:30:00Z"), ("0001-01-01 01:00:00+01", "0001-01-01T00:00:00Z"),
        ("2023-12-31 23:00:00-01", "2024-01-01T00:00:00Z"), ("1969-12-31 23:59:59.5-00:00:01", "1970-01-01T00:00:00.5Z"),
    ])
    func proleptic(_ text: String, _ canonical: String) {
        #expect(CanonicalKind.timestamp.canonical(.text(text)) == .text(canonical))
    }

    @Test("timestamps are written as %04d-%02d-%02dT%02d:%02d:%02d writes them, years before 1 and after 9999 included; white space around them is trimmed")
    func writtenLikePrintf() {
        for value in [-10_000, -999, -10, -1, 0, 1, 9, 10, 99, 100, 999, 1_000, 9_999, 10_000, 123_456] {
            for width in [2, 4] {
                var written: [UInt8] = []
                CanonicalText.appendPadded(value, width: width, to: &written)
                #expect(String(decoding: written, as: UTF8.self) == String(format: "%0\(width)d", value))
            }
        }
        #expect(CanonicalKind.timestamp.canonical(.text("0001-01-01 00:30:00+01")) == .text("0000-12-31T23:30:00Z"))
        #expect(CanonicalKind.timestamp.canonical(.text("9999-12-31T23:59:59.500-01:00")) == .text("10000-01-01T00:59:59.5Z"))
        #expect(CanonicalKind.localTimestamp.canonical(.text(" 2024-02-29 10:00:00\t")) == .text("2024-02-29T10:00:00"))
        #expect(CanonicalKind.localTimestamp.canonical(.text("\u{00A0}2024-02-29 10:00:00.120")) == .text("2024-02-29T10:00:00.12"))
        #expect(CanonicalKind.timestamp.canonical(.text("0044-03-15 00:00:00+00:00")) == .text("0044-03-15T00:00:00Z"))
        #expect(CanonicalKind.integer.canonical(.text(" 42 ")) == .integer(42))
    }

    @Test("a day the month does not have is not a timestamp (it is compared as the text it is)", arguments: [
        "2024-02-30 00:00:00+00", "2023-02-29 00:00:00", "1500-02-29 00:00:00", "2024-04-31 10:00:00",
    ])
    func impossibleDays(_ text: String) {
        #expect(CanonicalKind.timestamp.canonical(.text(text)) == .text(text))
    }
}

@Suite struct CanonicalRowEncoderTests {
    static let job = ResolvedJob(
        spec: try! SpecLoader.parse(
            yaml: "name: t\nsource: { sqlite: a.db, table: t }\ntarget: { sqlite: b.db, table: t }\nkey: [id]\n", file: "t.yaml",
            baseDirectory: "/tmp", environment: [:]
        ).spec,
        columns: ["id", "amount", "note", "data"],
        targetColumns: [
            ColumnDescription(name: "id", declaredType: "bigint", affinity: .integer),
            ColumnDescription(name: "amount", declaredType: "numeric(12,2)", affinity: .text, fit: .decimalPlaces(2)),
            ColumnDescription(name: "note", declaredType: "text", affinity: .text),
            ColumnDescription(name: "data", declaredType: "bytea", affinity: .blob),
        ])

    @Test("tokens: a tag, the body's length in bytes, a colon and the body; NULL is N")
    func tokens() {
        let encoder = CanonicalRowEncoder.target(of: Self.job, kinds: nil)
        let (key, row) = encoder.encode([.integer(-12), .real(0.5), .text("é:"), .blob([0, 255])])
        #expect(String(decoding: key, as: UTF8.self) == "Ki3:-12")
        #expect(String(decoding: row, as: UTF8.self) == "Ri3:-12r16:3fe0000000000000t3:é:b4:00ff")
        #expect(String(decoding: encoder.encode([.integer(1), .null, .text(""), .null]).row, as: UTF8.self) == "Ri1:1Nt0:N")
    }

    @Test("the source side types values for the target and brings them to the canonical kinds; a row the target cannot hold never matches")
    func sourceSide() {
        let kinds: [CanonicalKind] = [.integer, .decimal, .text, .bytes]
        let encoder = CanonicalRowEncoder.source(of: Self.job, kinds: kinds)
        let shaped = encoder.encode([.real(7), .real(12.5), .integer(3), .text("\\x0aff")])
        #expect(String(decoding: shaped.row, as: UTF8.self) == "Ri1:7t4:12.5t1:3b4:0aff")
        // 1.005 has three decimal places: numeric(12,2) would round it, so the run quarantines it.
        let refused = encoder.encode([.integer(8), .real(1.005), .null, .null])
        #expect(refused.row.first == UInt8(ascii: "Q"))
        #expect(String(decoding: refused.key, as: UTF8.self) == "Ki1:8", "its key still finds its bucket")
    }
}
