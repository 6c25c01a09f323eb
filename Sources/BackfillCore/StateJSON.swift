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
}

extension Counters {
    /// The state stores' counter columns, in the order of `columnValues`.
    public static let columnNames = firstColumnNames + ["shipped_rows", "shipped_bytes"]

    /// The counter columns of the first state stores (later ones are added by migrations).
    public static let firstColumnNames = ["read", "inserted", "updated", "unchanged", "skipped", "quarantined", "batches", "retries"]

    /// The counters in the order of `columnNames`.
    public var columnValues: [Int] { [read, inserted, updated, unchanged, skipped, quarantined, batches, retries, shippedRows, shippedBytes] }
}
