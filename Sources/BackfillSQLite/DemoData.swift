import BackfillCore
import Foundation
import GRDB

/// Builds the demo's primary database and a replica damaged as after an outage.
public enum DemoData {
    /// What was done to the replica.
    public struct Damage: Sendable {
        public var rows: Int
        public var missingRange: ClosedRange<Int>
        public var lostRows: Int
        public var staleRows: Int
    }

    /// Creates `primary.db` with `rows` orders and `replica.db`, a copy with a missing key range
    /// (an outage), scattered lost rows and stale rows (missed updates).
    public static func create(in directory: String, rows: Int = 200_000) throws -> Damage {
        let primaryPath = directory + "/primary.db"
        let replicaPath = directory + "/replica.db"
        for path in [primaryPath, replicaPath] where FileManager.default.fileExists(atPath: path) {
            try FileManager.default.removeItem(atPath: path)
        }
        let primary = try DatabaseQueue(path: primaryPath)
        try primary.write { db in
            try db.execute(sql: """
                CREATE TABLE orders (
                    id INTEGER PRIMARY KEY,
                    customer_id INTEGER NOT NULL,
                    status TEXT NOT NULL,
                    total_cents INTEGER NOT NULL,
                    note TEXT,
                    updated_at TEXT NOT NULL
                );
                CREATE INDEX orders_by_customer ON orders (customer_id);
                """)
            try db.execute(
                sql: """
                    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
                    INSERT INTO orders
                    SELECT i, 1 + (i * 7919) % 5000,
                           CASE i % 7 WHEN 0 THEN 'refunded' WHEN 1 THEN 'pending' WHEN 2 THEN 'shipped' ELSE 'delivered' END,
                           (i * 31337) % 250000, CASE WHEN i % 10 = 0 THEN NULL ELSE 'order note ' || i END,
                           strftime('%Y-%m-%dT%H:%M:%SZ', 1761955200 + i * 11, 'unixepoch')
                    FROM n
                    """,
                arguments: [rows])
        }
        try primary.writeWithoutTransaction { db in try db.execute(sql: "VACUUM INTO ?", arguments: [replicaPath]) }
        try primary.close()
        let missing = (rows * 6 / 10)...(rows * 6 / 10 + rows / 10 - 1)
        let replica = try DatabaseQueue(path: replicaPath)
        let damage = try replica.write { db -> Damage in
            try db.execute(sql: "DELETE FROM orders WHERE id BETWEEN ? AND ?", arguments: [missing.lowerBound, missing.upperBound])
            try db.execute(sql: "DELETE FROM orders WHERE id % 397 = 5")
            let lost = db.changesCount
            try db.execute(sql: """
                UPDATE orders SET status = 'pending', total_cents = total_cents - 100,
                       updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 1761955200 + id * 11 - 86400, 'unixepoch')
                WHERE id % 101 = 3
                """)
            let stale = db.changesCount
            return Damage(rows: rows, missingRange: missing, lostRows: lost, staleRows: stale)
        }
        try replica.close()
        return damage
    }
}
