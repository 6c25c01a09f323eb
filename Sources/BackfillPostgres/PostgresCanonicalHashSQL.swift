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
    /// source of PostgreSQL → SQLite: `ColumnAffinity.convert` of the value the run reads); `nil`
    /// where that conversion has no exact SQL form (text into a numeric affinity, a float into TEXT).
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
            return token("r", bits("\(c)::float8"))
        case (.real, .integer), (.real, .numeric):
            // An integral double in range is stored as that integer (`Int64(exactly:)`).
            let d = "\(c)::float8"
            let integral = "\(d) = trunc(\(d)) AND \(d) >= -9223372036854775808 AND \(d) < 9223372036854775808"
            return "coalesce(CASE WHEN \(integral) THEN \(body("i", "(\(d))::int8::text")) ELSE \(body("r", bits(d))) END, 'N')"
        case (.text, .text), (.text, .blob):
            return token("t", "\(c)::text")
        default:
            return nil
        }
    }

    /// `tag`, the byte length of `body`, `:` and `body`; `N` when `body` is NULL.
    private static func token(_ tag: String, _ body: String) -> String {
        "coalesce(\(self.body(tag, body)), 'N')"
    }

    private static func body(_ tag: String, _ body: String) -> String {
        "'\(tag)' || octet_length(\(body))::text || ':' || \(body)"
    }
}
