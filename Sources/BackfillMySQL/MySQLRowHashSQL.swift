/// SQL that hashes a MySQL row inside the server, for comparing two MySQL tables without shipping
/// their rows (as pt-table-checksum checksums chunks, with 64 bits instead of CRC32's 32): the
/// first 64 bits of the MD5 of the row's values joined by `#`, and a map of its NULLs.
///
/// Numbers and times print without a `#` and go as they print (a `FLOAT` widened to a `DOUBLE`,
/// which prints every digit); every other value goes as its bytes after its length, so that
/// `a#`,`b` and `a`,`#b` differ — text in UTF-8 whatever its character set, so that a latin1
/// `Ã©` and a utf8mb4 `é` (the same two bytes) hash apart. Two rows hash alike only when every column prints the same bytes: where
/// two tables' column types differ (`DECIMAL(10,2)` beside `DECIMAL(12,4)`), equal values hash
/// apart, and the range is then compared row by row in canonical form — slower, never wrong.
enum MySQLRowHashSQL {
    /// `BIGINT UNSIGNED`: the hash of the row made of `columns` of `types`.
    static func rowHash(_ columns: [String], types: [MySQLColumnType]) -> String {
        var parts: [String] = []
        for (column, type) in zip(columns, types) {
            let quoted = MySQLSQL.quoted(column)
            if type.printsWithoutHash {
                parts.append(type.selected(quoted))
            } else {
                let bytes = "CAST(\(type.inUTF8(quoted)) AS BINARY)"
                parts.append("LENGTH(\(bytes))")
                parts.append(bytes)
            }
        }
        let nulls = "CONCAT(" + columns.map { "ISNULL(\(MySQLSQL.quoted($0)))" }.joined(separator: ", ") + ")"
        parts.append(nulls)
        return "CAST(CONV(LEFT(MD5(CONCAT_WS('#', \(parts.joined(separator: ", ")))), 16), 16, 10) AS UNSIGNED)"
    }

    /// `SELECT`able: the sum of `hash`es (exact: MySQL sums `BIGINT UNSIGNED` as a `DECIMAL`)
    /// folded into 0..<2^64, the wrapping sum `TableDigest` holds.
    static func foldedSum(_ hash: String) -> String {
        "CAST(MOD(COALESCE(SUM(\(hash)), 0), 18446744073709551616) AS CHAR)"
    }
}
