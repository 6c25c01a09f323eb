import Foundation

/// A backfill job as written in its YAML spec (see DESIGN.md, "Spec").
public struct JobSpec: Sendable, Codable, Hashable {
    public var name: String
    public var source: Endpoint
    public var target: Endpoint
    /// The stable key; may be composite.
    public var key: [String]
    /// The columns to copy; `nil` means every column the source and target share.
    public var columns: [String]?
    public var mode: WriteMode
    /// `conflict.newer-wins`: a version column; a target row with a newer version is never replaced.
    public var newerWins: String?
    public var range: RangeSpec
    public var batch: BatchSpec
    public var workers: Int
    public var limits: LimitsSpec
    /// `state:` as written; `nil` means `.backfill/state.db` beside the spec.
    public var state: String?
    /// `window:` — allowed hours and days.
    public var window: WindowSpec? = nil
    /// `throttle:` — a health probe on the source.
    public var throttle: ThrottleSpec? = nil
    /// `health:` — the live system's signals the run keeps within limits (the target's standbys).
    public var health = HealthSpec()
    /// `verify:` — key fields, spot checks and named queries.
    public var verify = VerifySpec()
    /// `journal:`: before-images of the rows a run changes (on for table targets unless `journal: off`).
    public var journal = JournalSpec()
    /// `set:` — the columns `update-in-place` computes, sorted by column.
    public var set: [ColumnExpression] = []
    /// `events:` — replay events (to a `webhook:` target) instead of copying rows.
    public var events: EventsSpec? = nil
    /// The folder the spec file is in; relative paths resolve against it.
    public var baseDirectory: String

    public init(
        name: String, source: Endpoint, target: Endpoint, key: [String], columns: [String]? = nil,
        mode: WriteMode = .upsert, newerWins: String? = nil, range: RangeSpec = RangeSpec(),
        batch: BatchSpec = BatchSpec(), workers: Int = 2, limits: LimitsSpec = LimitsSpec(),
        state: String? = nil, baseDirectory: String = ".", window: WindowSpec? = nil, throttle: ThrottleSpec? = nil
    ) {
        self.window = window
        self.throttle = throttle
        self.name = name
        self.source = source
        self.target = target
        self.key = key
        self.columns = columns
        self.mode = mode
        self.newerWins = newerWins
        self.range = range
        self.batch = batch
        self.workers = workers
        self.limits = limits
        self.state = state
        self.baseDirectory = baseDirectory
    }

    /// Resolves a path from the spec against the spec's folder.
    public func resolve(path: String) -> String { Self.resolve(path: path, against: baseDirectory) }

    /// `path`, resolved against `directory` unless it is absolute.
    static func resolve(path: String, against directory: String) -> String {
        if path.hasPrefix("/") { return path }
        return URL(fileURLWithPath: directory).appendingPathComponent(path).standardizedFileURL.path
    }

    /// Seconds in a duration such as `200ms`, `2s`, `1.5m` or `1h`; `nil` when malformed.
    public static func durationSeconds(_ text: String) -> Double? { SpecNodeReader.parseDuration(text) }

    /// Where the state store lives: `state:` or `.backfill/state.db` beside the spec.
    public var statePath: String {
        if let state, state.contains("://") { return state }
        return resolve(path: state ?? ".backfill/state.db")
    }

    /// A short hash of what decides which rows a run touches and how; a run is only resumed
    /// by a spec with the same fingerprint.
    public var fingerprint: String {
        var parts: [String] = [
            name, source.kind.rawValue, source.location, source.table ?? "", target.kind.rawValue,
            target.location, target.table ?? "", key.joined(separator: ","),
            (columns ?? ["*"]).joined(separator: ","), mode.rawValue, newerWins ?? "",
            range.whereClause ?? "", (range.from ?? []).map(\.description).joined(separator: ","),
            (range.to ?? []).map(\.description).joined(separator: ","),
        ]
        // Only in-place jobs hash their `set:`, so fingerprints of every other spec stay as they were
        // (a run started by an earlier version still resumes).
        if !set.isEmpty { parts.append(set.map { "\($0.column)=\($0.expression)" }.joined(separator: ",")) }
        // Likewise only event jobs hash their `events:`.
        if let events { parts.append(["events", events.id, events.orderKey ?? "", events.orderBy ?? ""].joined(separator: ",")) }
        // And only journaled jobs their journal: a run is journaled from its first row or not at all.
        if journal.isOn { parts.append("journal") }
        return Fingerprint.hex(of: parts.joined(separator: "\u{1F}"))
    }
}

/// A source or target as named in the spec: `{sqlite: PATH, table: T}`, `{csv: PATH}`, ….
public struct Endpoint: Sendable, Codable, Hashable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        case sqlite, postgres, mysql, csv, jsonl, webhook

        /// A table of a database (SQLite, PostgreSQL, MySQL): it takes `table:`, can be queried and
        /// compared row by row; files and webhooks cannot.
        public var isTable: Bool { self == .sqlite || self == .postgres || self == .mysql }
    }

    public var kind: Kind
    /// A path, DSN or URL, after `${ENV}` interpolation.
    public var location: String
    public var table: String?
    /// The options of a `webhook:` target.
    public var webhook: WebhookSpec? = nil
    /// `create: true` on a SQLite or PostgreSQL target: create the table from the source's
    /// description when it does not exist (`TargetDesign`).
    public var create = false

    public init(kind: Kind, location: String, table: String? = nil) {
        self.kind = kind
        self.location = location
        self.table = table
    }

    /// The location with any password replaced, safe for logs and reports.
    public var redactedLocation: String { Redaction.redact(location) }
}

/// How rows are written (`mode:`).
public enum WriteMode: String, Sendable, Codable, CaseIterable {
    /// Insert missing rows, update differing ones.
    case upsert
    /// Insert missing rows; never change existing ones.
    case insertMissing = "insert-missing"
    /// Update differing rows that exist; never insert.
    case updateExisting = "update-existing"
    /// Set columns of the target table from SQL expressions over its own row, batch by batch
    /// (`set:`): the backfill of a new column after a schema change. Source and target are the
    /// same PostgreSQL table.
    case updateInPlace = "update-in-place"
}

/// One `set:` entry of `update-in-place`: a column and the SQL expression that computes it.
public struct ColumnExpression: Sendable, Codable, Hashable {
    public var column: String
    public var expression: String

    public init(column: String, expression: String) {
        self.column = column
        self.expression = expression
    }
}

/// `range:` — which part of the source to replay.
public struct RangeSpec: Sendable, Codable, Hashable {
    /// A SQL condition on the source table.
    public var whereClause: String?
    /// Inclusive lower bound on the key.
    public var from: [Value]?
    /// Exclusive upper bound on the key.
    public var to: [Value]?

    public init(whereClause: String? = nil, from: [Value]? = nil, to: [Value]? = nil) {
        self.whereClause = whereClause
        self.from = from
        self.to = to
    }

    public var keyRange: KeyRange { KeyRange(lower: from, upper: to) }
}

/// `batch:` — rows per write.
public struct BatchSpec: Sendable, Codable, Hashable {
    public var size = 1000
    /// Aimed-at batch duration, in seconds.
    public var targetDuration: Double = 0.2
    public var min = 100
    public var max = 20000
    /// Whether the spec named `target-duration`: then the size adapts to it within `min`/`max`.
    public var adaptive = false

    public init(size: Int = 1000, targetDuration: Double = 0.2, min: Int = 100, max: Int = 20000, adaptive: Bool = false) {
        self.size = size
        self.targetDuration = targetDuration
        self.min = min
        self.max = max
        self.adaptive = adaptive
    }
}

/// `limits:` — rate and error limits.
public struct LimitsSpec: Sendable, Codable, Hashable {
    /// Rows per second across all workers; `nil` = unlimited.
    public var rowsPerSecond: Double?
    /// Bytes of row values per second the run may send to its target; `nil` = unlimited.
    public var bytesPerSecond: Double?
    /// WAL bytes per second a PostgreSQL target may write (all of its WAL, as a standby receives
    /// it); `nil` = unlimited.
    public var walBytesPerSecond: Double?
    /// Attempts for a transient failure before the run fails.
    public var retries = 8
    /// Share of failed rows in the recent window above which the run pauses itself: rows
    /// quarantined ÷ rows that needed a write plus bad source rows, over the last batches of all
    /// workers (see `ErrorGuard`).
    public var maxErrorRate: Double?
    /// `accept-quarantined: true`: a run that completes with rows in quarantine exits 0 instead of 5.
    public var acceptQuarantined = false
    /// A file whose existence pauses the run (like gh-ost's flag file), resolved against the spec's folder.
    public var pauseFile: String? = nil
    /// Batches per second across all workers; `nil` = unlimited.
    public var batchesPerSecond: Double? = nil
    /// The first retry delay in seconds; doubled per attempt (capped at 30 s), with full jitter.
    public var backoff: Double = 0.1
    /// Consecutive transient failures of one dependency that open its circuit breaker.
    public var circuitFailures = 5
    /// Seconds an open circuit waits before one probe call (half-open).
    public var circuitCoolDown: Double = 5
    /// PostgreSQL `lock_timeout` in seconds: the longest a write waits for a row lock before it is retried.
    public var lockTimeout: Double = 2
    /// PostgreSQL `statement_timeout` in seconds: the longest one statement may run.
    public var statementTimeout: Double = 60

    public init(rowsPerSecond: Double? = nil, retries: Int = 8, maxErrorRate: Double? = nil) {
        self.rowsPerSecond = rowsPerSecond
        self.retries = retries
        self.maxErrorRate = maxErrorRate
    }
}
