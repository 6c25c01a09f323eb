import Foundation

/// How state stores keep structured values (cursors, ranges, keys, knobs, waits) in text columns:
/// JSON, the same in every store.
public enum StateJSON {
    public static func encode(_ value: some Encodable) throws -> String {
        String(decoding: try JSONEncoder().encode(value), as: UTF8.self)
    }

    /// `nil` for a NULL column.
    public static func decode<T: Decodable>(_ type: T.Type, _ text: String?) throws -> T? {
        guard let text else { return nil }
        return try JSONDecoder().decode(T.self, from: Data(text.utf8))
    }

    /// A text column holding JSON (a cursor, range, key); `nil` for NULL.
    /// - Throws: `BackfillError` `.invalidInput` naming the table and column when it is not the
    ///   JSON backfill writes — never a default in its place (a broken chunk range is not the whole key space).
    public static func column<T: Decodable>(_ type: T.Type, _ text: String?, table: String, column: String) throws -> T? {
        do {
            return try decode(type, text)
        } catch {
            throw BackfillError(.invalidInput, "the state store's \(table) table holds a \(column) this version cannot read (not the JSON backfill writes)")
        }
    }

    /// A NOT NULL text column holding JSON (a chunk's range).
    /// - Throws: `BackfillError` `.invalidInput` naming the table and column when it is empty or not
    ///   the JSON backfill writes.
    public static func required<T: Decodable>(_ type: T.Type, _ text: String?, table: String, column: String) throws -> T {
        guard let value = try self.column(type, text, table: table, column: column) else {
            throw BackfillError(.invalidInput, "the state store's \(table) table holds a row without a \(column)")
        }
        return value
    }

    /// A run's or chunk's status.
    /// - Throws: `BackfillError` `.invalidInput` naming the table for a status this version does not know.
    public static func status<Status: RawRepresentable<String>>(_ raw: String, _ type: Status.Type, table: String) throws -> Status {
        guard let status = Status(rawValue: raw) else {
            throw BackfillError(.invalidInput, "the state store's \(table) table holds status '\(raw)', which this version does not know")
        }
        return status
    }
}

extension Counters {
    /// The state stores' counter columns, in the order of `columnValues`.
    public static let columnNames = firstColumnNames + ["shipped_rows", "shipped_bytes", "source_hash_bytes", "target_hash_bytes"]

    /// The counter columns of the first state stores (later ones are added by migrations).
    public static let firstColumnNames = ["read", "inserted", "updated", "unchanged", "skipped", "quarantined", "batches", "retries"]

    /// The counters in the order of `columnNames`.
    public var columnValues: [Int] {
        [read, inserted, updated, unchanged, skipped, quarantined, batches, retries, shippedRows, shippedBytes, sourceHashBytes, targetHashBytes]
    }
}
