import BackfillCore
import Testing

/// Type inference for a target created from an export: a value is only taken as a type whose text
/// form gives it back exactly, and as a value the engines accept.
@Suite struct ColumnSamplerTests {
    static func types(_ values: [Value]) -> (postgres: String, sqlite: String, null: Bool) {
        var sampler = ColumnSampler()
        for value in values { sampler.observe(value) }
        return (sampler.postgresType, sampler.sqliteType, sampler.sawNull)
    }

    static func text(_ values: String...) -> [Value] { values.map(Value.text) }

    @Test("numbers: integers, decimals, reals — and what stays text")
    func numbers() {
        #expect(Self.types(Self.text("1", "-42", "9223372036854775807")).postgres == "bigint")
        #expect(Self.types(Self.text("1", "2.50")) == ("numeric", "NUMERIC", false))
        #expect(Self.types(Self.text("1.5", "12345678901234567.5")) == ("numeric", "TEXT", false), "more digits than a REAL keeps")
        #expect(Self.types(Self.text("99999999999999999999")).postgres == "numeric", "beyond 64 bits")
        #expect(Self.types(Self.text("1e5", "2.5E-3")) == ("double precision", "REAL", false))
        #expect(Self.types(Self.text("1e-400")).postgres == "text", "underflows a double")
        #expect(Self.types(Self.text("-0")).postgres == "text", "the engines drop the sign")
        #expect(Self.types(Self.text("-0.00")).postgres == "text")
        #expect(Self.types(Self.text("007")).postgres == "text", "leading zeros")
        #expect(Self.types(Self.text(" 1")).postgres == "text", "spaces")
        #expect(Self.types([.integer(3), .real(0.5)]).postgres == "double precision")
    }

    @Test("booleans, timestamps, dates and JSON — only real calendar values")
    func others() {
        #expect(Self.types(Self.text("true", "false")).postgres == "boolean")
        #expect(Self.types(Self.text("True")).postgres == "text")
        #expect(Self.types(Self.text("2024-02-29T23:59:59.5Z", "2024-01-01 00:00:00+05:30")).postgres == "timestamptz")
        #expect(Self.types(Self.text("2024-01-01 00:00:00")).postgres == "timestamp")
        #expect(Self.types(Self.text("2024-01-01 24:00:00")).postgres == "text", "PostgreSQL moves 24:00 to the next day")
        #expect(Self.types(Self.text("2024-12-31 23:59:60")).postgres == "text", "a leap second")
        #expect(Self.types(Self.text("2024-02-29", "2023-12-31")) == ("date", "TEXT", false))
        #expect(Self.types(Self.text("2023-02-29")).postgres == "text", "not a leap year")
        #expect(Self.types(Self.text("0000-01-01")).postgres == "text", "no year 0")
        // The forms a zone and a fraction take, and what is not one of them.
        #expect(Self.types(Self.text("2024-01-01T00:00:00+02", "2024-01-01T00:00:00-0130", "2024-01-01T00:00:00.123456Z")).postgres == "timestamptz")
        #expect(Self.types(Self.text("2024-01-01T00:00:00.1234567Z")).postgres == "text", "more than microseconds")
        #expect(Self.types(Self.text("2024-01-01T00:00:00.")).postgres == "text", "a point without digits")
        #expect(Self.types(Self.text("2024-01-01T00:00:00+2")).postgres == "text", "a one-digit zone")
        #expect(Self.types(Self.text("2024-01-01T00:00:00+02:0")).postgres == "text")
        #expect(Self.types(Self.text("2024-01-01T00:00:00Z ")).postgres == "text", "a space after")
        #expect(Self.types(Self.text("2024-1-01")).postgres == "text", "a one-digit month")
        #expect(Self.types(Self.text("2024-01-01x")).postgres == "text")
        #expect(Self.types(Self.text("2024-01-01", "2024-01-01 00:00:00")).postgres == "text", "a date beside a timestamp")
        #expect(Self.types(Self.text(#"{"a": [1, 2]}"#, "[]")).postgres == "jsonb")
        #expect(Self.types(Self.text("{not json")).postgres == "text")
    }

    @Test("NULLs: seen, and a column of NULLs only is text")
    func nulls() {
        #expect(Self.types([.null, .text("5")]) == ("bigint", "INTEGER", true))
        #expect(Self.types([.null, .null]) == ("text", "TEXT", true))
        #expect(Self.types([]).null)
    }
}
