import Foundation

/// One difference between source and target.
public struct RowDifference: Sendable, Codable, Hashable {
    public enum Kind: String, Sendable, Codable {
        /// In the source, not in the target.
        case missing
        /// In the target, not in the source.
        case extra
        /// In both, with different values.
        case different
        /// Different, but the target's `newer-wins` version is newer: live traffic won; not an error.
        case newerInTarget = "newer-in-target"
    }

    public var kind: Kind
    public var key: [Value]
    /// The columns whose values differ (`different`, `newer-in-target`).
    public var columns: [String]
}

/// The last verification of a run, as `status` and `report` show it.
public struct VerificationSummary: Sendable, Codable, Hashable {
    public var at: Date
    public var equal: Bool
    public var missing: Int
    public var extra: Int
    public var different: Int
    public var newerInTarget: Int
    public var spotMismatches: Int
    public var failedQueries: [String]
    /// The repair between a first verification that found differences and this one (`run
    /// --verify`, `verify --repair`); `nil` when nothing was repaired.
    public var repair: RepairSummary?

    /// - Parameter repair: the repair run this verification followed, if any.
    public init(_ report: VerifyReport, repair: RepairOutcome? = nil, at: Date = Date()) {
        self.at = at
        equal = report.equal
        missing = report.missing
        extra = report.extra
        different = report.different
        newerInTarget = report.newerInTarget
        spotMismatches = report.spotMismatches.count
        failedQueries = report.queries.filter { !$0.equal }.map(\.name)
        self.repair = repair.map(RepairSummary.init)
    }
}

/// A repair as the run it repaired records it: what the first verification found, and what the
/// repair run (job `<name>.repair`) did about it.
public struct RepairSummary: Sendable, Codable, Hashable {
    /// The repair run's id (`report ID` shows it in full).
    public var runID: Int64
    public var status: RunStatus
    /// What the verification before the repair found.
    public var foundMissing: Int
    public var foundExtra: Int
    public var foundDifferent: Int
    /// The repair run's counters.
    public var counters: Counters
    /// Rows only in the target, deleted (`--delete-extra`).
    public var deleted: Int

    public init(_ outcome: RepairOutcome) {
        runID = outcome.summary.runID
        status = outcome.summary.status
        foundMissing = outcome.before.missing
        foundExtra = outcome.before.extra
        foundDifferent = outcome.before.different
        counters = outcome.summary.counters
        deleted = outcome.deleted
    }
}

/// The result of `backfill verify`.
public struct VerifyReport: Sendable, Codable {
    public var job: String
    public var sourceRows = 0
    public var targetRows = 0
    public var missing = 0
    public var extra = 0
    public var different = 0
    public var newerInTarget = 0
    /// Ranges compared by checksum, and how many of them had to be split or listed.
    /// Export records that could not be compared: malformed lines, values the target's types reject,
    /// NULL or duplicate keys (they are in quarantine after a run).
    public var unreadableSourceRecords = 0
    public var rangesCompared = 0
    public var rangesListed = 0
    public var seconds = 0.0
    /// The differences found, at most `limit` of them (the counts above are complete).
    public var differences: [RowDifference] = []
    /// `equal`, as stored for JSON readers (set by `conclude()`).
    public var result = ""
    /// The columns compared (`verify.key-fields` and the key, or every copied column).
    public var columns: [String] = []
    /// `verify.spot-check`: random keys compared field by field on both sides.
    public var spotChecked = 0
    public var spotMismatches: [RowDifference] = []
    /// `verify.queries`, by name.
    public var queries: [QueryCheck] = []
    /// Every key to write again (missing and different), when collected for a repair.
    public var repairKeys: [[Value]]? = nil
    /// Every key only in the target, when collected for a repair.
    public var extraKeys: [[Value]]? = nil

    public init(job: String) { self.job = job }

    /// Whether the target equals the source (rows newer in the target do not count), spot checks
    /// and named queries included.
    public var equal: Bool {
        missing + extra + different == 0 && spotMismatches.isEmpty && queries.allSatisfy(\.equal)
    }

    /// Fixes `result` once every check has run.
    public mutating func conclude() { result = equal ? "equal" : "different" }

    /// A named query's results on both sides.
    public struct QueryCheck: Sendable, Codable, Hashable {
        public var name: String
        public var equal: Bool
        public var source: [[String]]
        public var target: [[String]]

        public init(name: String, source: [[String]], target: [[String]]) {
            self.name = name
            self.source = source
            self.target = target
            self.equal = source == target
        }
    }
}
