import PostgresNIO

/// Two `bigint`s a row (a key or key hash, and a row hash) shipped packed: one `bytea` of 16 bytes
/// a row, big-endian. Decoding a result row per row hash cost the client more than the server
/// spent hashing it (a million rows a side kept a client core busy).
enum PostgresPackedPairs {
    /// `SELECT`able: `first` and `second` of every row, packed, in `order` when given (`NULL` for
    /// no rows).
    static func aggregate(_ first: String, _ second: String, orderBy order: String? = nil) -> String {
        "string_agg(int8send(\(first)) || int8send(\(second)), ''::bytea\(order.map { " ORDER BY \($0)" } ?? ""))"
    }

    /// Runs `query`, whose one column is an `aggregate`, and reads its pairs.
    static func read(_ query: PostgresQuery, on database: PostgresDatabase, _ what: String) async throws -> [(UInt64, UInt64)] {
        let logger = database.logger
        return try await database.withConnection(what) { connection in
            var pairs: [(UInt64, UInt64)] = []
            for try await row in try await connection.checkedQuery(query, logger: logger) {
                guard var packed = try row.decode(ByteBuffer?.self) else { continue }
                pairs.reserveCapacity(pairs.count + packed.readableBytes / 16)
                while let first = packed.readInteger(as: UInt64.self), let second = packed.readInteger(as: UInt64.self) {
                    pairs.append((first, second))
                }
            }
            return pairs
        }
    }
}
