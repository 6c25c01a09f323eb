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
    public var rangesCompared = 0
    public var rangesListed = 0
    public var seconds = 0.0
    /// The differences found, at most `limit` of them (the counts above are complete).
    public var differences: [RowDifference] = []
    /// Every key to write again (missing and different), when collected for a repair.
    public var repairKeys: [[Value]]? = nil
    /// Every key only in the target, when collected for a repair.
    public var extraKeys: [[Value]]? = nil

    public init(job: String) { self.job = job }

    /// Whether the target equals the source (rows newer in the target do not count).
    public var equal: Bool { missing + extra + different == 0 }
}
