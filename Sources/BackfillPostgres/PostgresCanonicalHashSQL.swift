import BackfillCore

/// SQL that builds `CanonicalRowEncoder`'s bytes inside PostgreSQL and hashes them as the SQLite
/// side does: the first 8 bytes of their MD5, read as a signed `bigint`.
///
/// Each column's token is built from the stored value, never from a text form that a session
/// setting could change where the canonical form does not depend on it (`float8send` for the
/// bits of a float, `to_char` in UTC for a `timestamptz`). A type or direction with no exact
/// SQL form here has none (`nil`), and the run then takes the row path for that job.
enum PostgresCanonicalHashSQL {
    /// `bigint`: the hash of `prefix` (`R` for a row, `K` for a key) followed by `tokens`.
    static func hash(prefix: String, tokens: [String]) -> String {
        "('x' || left(md5('\(prefix)' || \(tokens.joined(separator: " || "))), 16))::bit(64)::bigint"
    }

    /// The token of `column` as a PostgreSQL value brought to its canonical kind (the target of
    /// SQLite → PostgreSQL); `nil` for `jsonb`, whose canonical form (re-serialised JSON) has no
    /// SQL equivalent.
    static func canonicalToken(_ column: String, type: PostgresColumnType) -> String? {
        let c = Identifier.quoted(column)
        switch type.name {
        case "int2", "int4", "int8", "oid": return token("i", "\(c)::text")
        case "float8": return token("r", "encode(float8send(\(c)), 'hex')")
        case "float4": return token("r", "encode(float8send(\(c)::float8), 'hex')")
        case "numeric": return token("t", "trim_scale(\(c))::text")
        case "bool": return token("i", "\(c)::int::text")
        case "bytea": return token("b", "encode(\(c), 'hex')")
        case "jsonb": return nil
        case "timestamptz":
            let iso = "rtrim(rtrim(to_char(\(c) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US'), '0'), '.') || 'Z'"
            return token(
                "t", "CASE WHEN \(c) >= '0001-01-01 00:00:00+00' AND \(c) < '10000-01-01 00:00:00+00' THEN \(iso) ELSE \(c)::text END")
        case "timestamp":
            let iso = "rtrim(rtrim(to_char(\(c), 'YYYY-MM-DD\"T\"HH24:MI:SS.US'), '0'), '.')"
            return token("t", "CASE WHEN \(c) >= '0001-01-01 00:00:00' AND \(c) < '10000-01-01 00:00:00' THEN \(iso) ELSE \(c)::text END")
        // uuid (already lower case), date, json, text and every other type: PostgreSQL's text form.
        default: return token("t", "\(c)::text")
        }
    }

    /// The token of `column`'s value as a run writes it into a SQLite column of `affinity` (the
    /// source of PostgreSQL → SQLite: `ColumnAffinity.convert` of the value the run reads, `Q` —
    /// which matches nothing — where `ValueFit.sqlite` refuses it); `nil` where that conversion has
    /// no exact SQL form (text other than `numeric` into a numeric affinity, a float into TEXT).
    static func writtenToken(_ column: String, type: PostgresColumnType, into affinity: ColumnAffinity) -> String? {
        let c = Identifier.quoted(column)
        let bits = { (double: String) in "encode(float8send(\(double)), 'hex')" }
        switch (type.representation, affinity) {
        case (.bytes, _):
            return token("b", "encode(\(c), 'hex')")
        case (.integer, .integer), (.integer, .numeric), (.integer, .blob):
            return token("i", "\(c)::text")
        case (.integer, .real):
            return token("r", bits("\(c)::int8::float8"))
        case (.integer, .text):
            return token("t", "\(c)::text")
        case (.boolean, .integer), (.boolean, .numeric), (.boolean, .blob):
            return token("i", "\(c)::int::text")
        case (.boolean, .real):
            return token("r", bits("\(c)::int::float8"))
        case (.boolean, .text):
            return token("t", "\(c)::int::text")
        case (.real, .real), (.real, .blob):
            // SQLite would store a NaN as NULL: the run refuses it.
            return "CASE WHEN \(c) IS NULL THEN 'N' WHEN \(c) = 'NaN' THEN 'Q' ELSE \(body("r", bits("\(c)::float8"))) END"
        case (.real, .integer), (.real, .numeric):
            // An integral double in range is stored as that integer (`Int64(exactly:)`).
            let d = "\(c)::float8"
            let integral = "\(d) = trunc(\(d)) AND \(d) >= -9223372036854775808 AND \(d) < 9223372036854775808"
            return """
                CASE WHEN \(c) IS NULL THEN 'N' WHEN \(c) = 'NaN' THEN 'Q' WHEN \(integral) THEN \(body("i", "(\(d))::int8::text")) \
                ELSE \(body("r", bits(d))) END
                """
        case (.text, .text), (.text, .blob):
            return token("t", "\(c)::text")
        case (.text, .integer) where type.name == "numeric", (.text, .numeric) where type.name == "numeric":
            return numericIntoNumber(c, preferReal: false)
        case (.text, .real) where type.name == "numeric":
            return numericIntoNumber(c, preferReal: true)
        default:
            return nil
        }
    }

    /// A `numeric`'s text as `ColumnAffinity.convert` turns it into a number (an integer literal
    /// into an integer, other text through a double, integral doubles into integers unless
    /// `preferReal`), `Q` where `ValueFit.sqlite` refuses the result (more digits than SQLite
    /// keeps) and for magnitudes PostgreSQL's own cast to `float8` would refuse; NaN and the
    /// infinities stay text.
    private static func numericIntoNumber(_ c: String, preferReal: Bool) -> String {
        let d = "\(c)::float8"
        let real = "CASE WHEN \(c) = (\(d))::text::numeric THEN \(body("r", "encode(float8send(\(d)), 'hex')")) ELSE 'Q' END"
        let integral = "\(d) = trunc(\(d)) AND \(d) >= -9223372036854775808 AND \(d) < 9223372036854775808"
        let integer = "CASE WHEN \(c) = (\(d))::int8 THEN \(body("i", "(\(d))::int8::text")) ELSE 'Q' END"
        let literal = "scale(\(c)) = 0 AND \(c) BETWEEN -9223372036854775808 AND 9223372036854775807"
        return """
            CASE WHEN \(c) IS NULL THEN 'N' WHEN \(c)::text IN ('NaN', 'Infinity', '-Infinity') THEN \(body("t", "\(c)::text")) \
            WHEN \(c) <> 0 AND (abs(\(c)) >= 1.7976931348623157e308 OR abs(\(c)) < 1e-307) THEN 'Q' \
            \(preferReal ? "" : "WHEN \(literal) THEN \(body("i", "\(c)::text")) WHEN \(integral) THEN \(integer) ")ELSE \(real) END
            """
    }

    /// `tag`, the byte length of `body`, `:` and `body`; `N` when `body` is NULL.
    private static func token(_ tag: String, _ body: String) -> String {
        "coalesce(\(self.body(tag, body)), 'N')"
    }

    private static func body(_ tag: String, _ body: String) -> String {
        "'\(tag)' || octet_length(\(body))::text || ':' || \(body)"
    }
}
