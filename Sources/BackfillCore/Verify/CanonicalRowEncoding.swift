/// The bytes a row is hashed from when two engines compare rows inside themselves
/// (`BucketRangeDiffer` across SQLite and PostgreSQL): the row's values, typed as a run writes
/// them and brought to the canonical form `verify` compares in, each encoded unambiguously.
///
/// A value's token is a tag, the length of its body in bytes, a colon and the body:
/// - NULL: `N` (no length, no body);
/// - an integer: `i`, its decimal digits (`i3:-12`);
/// - a real: `r16:` and the 16 lower-case hex digits of its IEEE bits, most significant first;
/// - text: `t`, its UTF-8 bytes as they are;
/// - bytes: `b`, their lower-case hex digits.
/// A row is `R` followed by its columns' tokens; a key is `K` followed by its columns' tokens. A
/// row the run could not write as it is (its values do not fit the target) is encoded as `Q…`,
/// which no other side ever produces: it is never found equal, so the row path decides about it.
/// PostgreSQL builds the same bytes in SQL (`PostgresCanonicalHashSQL`); both hash them with MD5.
public struct CanonicalRowEncoder: Sendable {
    public let keyIndices: [Int]
    let shaper: RowShaper?
    let affinities: [ColumnAffinity]
    let kinds: [CanonicalKind]?

    /// Rows of the run's source, typed for the target's columns as the run writes them, then
    /// brought to `kinds` (the target's canonical kinds when the target is PostgreSQL).
    public static func source(of job: ResolvedJob, kinds: [CanonicalKind]?) -> CanonicalRowEncoder {
        CanonicalRowEncoder(
            keyIndices: job.keyIndices, shaper: RowShaper(job: job, strict: false), affinities: job.targetColumns.map(\.affinity), kinds: kinds)
    }

    /// Rows of the run's target as they are stored, brought to `kinds` (the target's canonical
    /// kinds when it is PostgreSQL; `nil` for SQLite, which compares stored values).
    public static func target(of job: ResolvedJob, kinds: [CanonicalKind]?) -> CanonicalRowEncoder {
        CanonicalRowEncoder(keyIndices: job.keyIndices, shaper: nil, affinities: [], kinds: kinds)
    }

    /// The bytes of `row`'s key and of the whole row.
    public func encode(_ row: [Value]) -> (key: [UInt8], row: [UInt8]) {
        var values = row
        var fits = true
        if let shaper {
            switch shaper.shape(row) {
            case .success(let shaped): values = shaped
            case .failure:
                fits = false
                for index in keyIndices { values[index] = affinities[index].convert(row[index], strict: false) ?? row[index] }
            }
        }
        if let kinds {
            for index in values.indices { values[index] = kinds[index].canonical(values[index]) }
        }
        var key: [UInt8] = [UInt8(ascii: "K")]
        for index in keyIndices { Self.append(values[index], to: &key) }
        var encoded: [UInt8] = [fits ? UInt8(ascii: "R") : UInt8(ascii: "Q")]
        encoded.reserveCapacity(64 * values.count)
        for value in values { Self.append(value, to: &encoded) }
        return (key, encoded)
    }

    /// Appends the token of `value`, byte by byte (no intermediate arrays: encoding was half of
    /// the time of hashing a SQLite row in the process).
    static func append(_ value: Value, to bytes: inout [UInt8]) {
        switch value {
        case .null:
            bytes.append(UInt8(ascii: "N"))
        case .integer(let v):
            let digits = String(v).utf8
            header(tag: "i", length: digits.count, to: &bytes)
            bytes.append(contentsOf: digits)
        case .real(let v):
            header(tag: "r", length: 16, to: &bytes)
            let bits = v.bitPattern
            for shift in stride(from: 60, through: 0, by: -4) { bytes.append(Hex.digits[Int((bits >> UInt64(shift)) & 0xf)]) }
        case .text(let v):
            header(tag: "t", length: v.utf8.count, to: &bytes)
            bytes.append(contentsOf: v.utf8)
        case .blob(let v):
            header(tag: "b", length: v.count * 2, to: &bytes)
            Hex.append(v, to: &bytes)
        }
    }

    /// `tag`, the body's length in bytes and `:`.
    private static func header(tag: Unicode.Scalar, length: Int, to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: tag))
        bytes.append(contentsOf: String(length).utf8)
        bytes.append(UInt8(ascii: ":"))
    }
}
