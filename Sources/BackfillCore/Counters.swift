/// What happened to the rows of a chunk or a run.
///
/// Invariant 4 of DESIGN: `read == inserted + updated + unchanged + skipped + quarantined`.
public struct Counters: Sendable, Hashable, Codable {
    public var read = 0
    public var inserted = 0
    public var updated = 0
    public var unchanged = 0
    public var skipped = 0
    public var quarantined = 0
    public var batches = 0
    /// Writes that failed and were retried or split.
    public var retries = 0
    /// Rows the source sent to backfill in full: read by the row path, or fetched after a hash
    /// comparison found them different. Rows settled inside the engines (a chunk found equal, an
    /// equal row found by its hash, the SQLite attached transfer) are read but not shipped.
    public var shippedRows = 0
    /// The bytes of the shipped rows' values (text and blobs by length, numbers as 8).
    public var shippedBytes = 0
    /// The bytes of counts, checksums and row hashes the source sent for comparisons inside the
    /// engines (`RangeDiffer`), each number counted as 8.
    public var sourceHashBytes = 0
    /// The same from the target: it sends no rows, only what the comparisons ask of it.
    public var targetHashBytes = 0

    public init() {}

    public init(read: Int, outcome: WriteOutcome, quarantined: Int, batches: Int = 1, retries: Int = 0) {
        self.read = read
        self.inserted = outcome.inserted
        self.updated = outcome.updated
        self.unchanged = outcome.unchanged
        self.skipped = outcome.skipped
        self.quarantined = quarantined
        self.batches = batches
        self.retries = retries
    }

    /// Rows accounted for by an outcome.
    public var accounted: Int { inserted + updated + unchanged + skipped + quarantined }

    /// Whether every row read is accounted for exactly once.
    public var isBalanced: Bool { read == accounted }

    /// Quarantined rows as a share of rows read (0 before any row).
    public var failureRate: Double { read > 0 ? Double(quarantined) / Double(read) : 0 }

    public static func + (lhs: Counters, rhs: Counters) -> Counters {
        var sum = Counters()
        sum.read = lhs.read + rhs.read
        sum.inserted = lhs.inserted + rhs.inserted
        sum.updated = lhs.updated + rhs.updated
        sum.unchanged = lhs.unchanged + rhs.unchanged
        sum.skipped = lhs.skipped + rhs.skipped
        sum.quarantined = lhs.quarantined + rhs.quarantined
        sum.batches = lhs.batches + rhs.batches
        sum.retries = lhs.retries + rhs.retries
        sum.shippedRows = lhs.shippedRows + rhs.shippedRows
        sum.shippedBytes = lhs.shippedBytes + rhs.shippedBytes
        sum.sourceHashBytes = lhs.sourceHashBytes + rhs.sourceHashBytes
        sum.targetHashBytes = lhs.targetHashBytes + rhs.targetHashBytes
        return sum
    }

    public static func += (lhs: inout Counters, rhs: Counters) { lhs = lhs + rhs }
}

extension Counters {
    private enum CodingKeys: String, CodingKey {
        case read, inserted, updated, unchanged, skipped, quarantined, batches, retries, shippedRows, shippedBytes, sourceHashBytes,
            targetHashBytes
    }

    /// Counters written before a counter existed read it as 0.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        func value(_ key: CodingKeys) throws -> Int { try container.decodeIfPresent(Int.self, forKey: key) ?? 0 }
        self.init()
        read = try value(.read)
        inserted = try value(.inserted)
        updated = try value(.updated)
        unchanged = try value(.unchanged)
        skipped = try value(.skipped)
        quarantined = try value(.quarantined)
        batches = try value(.batches)
        retries = try value(.retries)
        shippedRows = try value(.shippedRows)
        shippedBytes = try value(.shippedBytes)
        sourceHashBytes = try value(.sourceHashBytes)
        targetHashBytes = try value(.targetHashBytes)
    }

    /// What `rows` cost to ship — their count and the bytes of their values — and the hash bytes
    /// of the comparison that picked them (`compared`).
    public mutating func ship(_ rows: [[Value]], compared: Counters = Counters()) {
        shippedRows += rows.count
        shippedBytes += rows.reduce(0) { total, row in total + row.reduce(0) { $0 + $1.payloadBytes } }
        sourceHashBytes += compared.sourceHashBytes
        targetHashBytes += compared.targetHashBytes
    }
}

extension Value {
    /// The bytes this value takes as data: text and blobs by length, numbers as 8, NULL as 0.
    public var payloadBytes: Int {
        switch self {
        case .null: 0
        case .integer, .real: 8
        case .text(let text): text.utf8.count
        case .blob(let bytes): bytes.count
        }
    }
}
