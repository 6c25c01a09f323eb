import BackfillCore
import Testing

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
