/// Settings an operator changes on a running run (`backfill set RUN KNOB=VALUE…`); workers apply
/// them before their next batch. `nil` leaves the spec's value.
public struct RunKnobs: Sendable, Codable, Hashable {
    /// Rows per second across all workers; `0` lifts the limit.
    public var rowsPerSecond: Double?
    /// Rows per batch (also fixes an adaptive size).
    public var batchSize: Int?
    /// Concurrent workers of the executing process.
    public var workers: Int?
    /// The WAL budget of a PostgreSQL target, bytes per second.
    public var walBytesPerSecond: Double?
    /// The budget of row bytes sent to the target per second.
    public var bytesPerSecond: Double?

    public init(rowsPerSecond: Double? = nil, batchSize: Int? = nil, workers: Int? = nil) {
        self.rowsPerSecond = rowsPerSecond
        self.batchSize = batchSize
        self.workers = workers
    }

    /// The knob names `set` accepts.
    public static let names = ["rows-per-second", "batch-size", "workers", "wal-bytes-per-second", "bytes-per-second"]

    /// Applies `name=value`.
    /// - Throws: `BackfillError` `.invalidInput` naming the knob or value.
    public mutating func set(_ assignment: String) throws {
        let parts = assignment.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2 else {
            throw BackfillError(.invalidInput, "expected KNOB=VALUE, got '\(assignment)'; knobs: \(Self.names.joined(separator: ", "))")
        }
        switch parts[0] {
        case "rows-per-second":
            guard let value = Double(parts[1]), value >= 0, value <= 10_000_000 else {
                throw BackfillError(.invalidInput, "rows-per-second must be a number from 0 (no limit) to 10000000, got '\(parts[1])'")
            }
            rowsPerSecond = value
        case "batch-size":
            guard let value = Int(parts[1]), (1...100_000).contains(value) else {
                throw BackfillError(.invalidInput, "batch-size must be a whole number from 1 to 100000, got '\(parts[1])'")
            }
            batchSize = value
        case "wal-bytes-per-second", "bytes-per-second":
            guard let value = Double(parts[1]), value >= 1, value <= 1e12 else {
                throw BackfillError(.invalidInput, "\(parts[0]) must be a number of bytes from 1 to 1000000000000, got '\(parts[1])'")
            }
            if parts[0] == "bytes-per-second" { bytesPerSecond = value } else { walBytesPerSecond = value }
        case "workers":
            guard let value = Int(parts[1]), (1...64).contains(value) else {
                throw BackfillError(.invalidInput, "workers must be a whole number from 1 to 64, got '\(parts[1])'")
            }
            workers = value
        default:
            throw BackfillError(.invalidInput, "unknown knob '\(parts[0])'; knobs: \(Self.names.joined(separator: ", "))")
        }
    }
}
