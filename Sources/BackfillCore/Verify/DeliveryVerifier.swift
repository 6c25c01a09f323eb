import Foundation

/// Proof of delivery for an events job (`backfill verify` when the target is a webhook or a JSONL
/// event log): every event of the source in range against the events delivered — the delivery
/// ledger's ids for a webhook, the file's ids for a JSONL log.
///
/// The source is read once in batches; delivered ids are held in memory (as the JSONL target does
/// on opening). An event not delivered is *refused* when a run quarantined it as the receiver's
/// refusal (with the status and answer), *never delivered* otherwise; a delivered id the source no
/// longer holds is reported too, but only undelivered events make the proof fail.
public struct DeliveryVerifier: Sendable {
    let job: ResolvedJob
    let source: any Source
    let idIndex: Int
    public var batchSize = 5000
    public var reportLimit = 100

    /// - Throws: `BackfillError` `.invalidSpec` when the job has no `events:` or its id column is not copied.
    public init(job: ResolvedJob, source: any Source) throws {
        guard let events = job.spec.events else { throw BackfillError(.invalidSpec, "an events job needs events:", location: "events") }
        guard let index = job.columns.firstIndex(where: { $0.caseInsensitiveCompare(events.id) == .orderedSame }) else {
            throw BackfillError(.invalidSpec, "column '\(events.id)' is not among the event's columns", location: "events.id")
        }
        self.job = job
        self.source = source
        self.idIndex = index
    }

    /// The reasons the job's runs recorded for events the receiver refused, by event id, newest
    /// run first (a later refusal of the same event replaces nothing: the newest is kept).
    public func refusals(in state: any StateStore) async throws -> [String: String] {
        var reasons: [String: String] = [:]
        for run in try await state.runs(limit: 1_000) where run.job == job.spec.name {
            for record in try await state.quarantine(runID: run.id, limit: 1_000_000) where record.errorType != "data" {
                guard let row = record.row, idIndex < row.count else { continue }
                let id = EventID.text(row[idIndex])
                if reasons[id] == nil { reasons[id] = record.reason }
            }
        }
        return reasons
    }

    /// Offers the events `report` found undelivered again: a run of job `<name>.repair` over their
    /// keys, read again from `source`, through the job's sink (which skips what its ledger holds).
    public func repair(_ report: DeliveryReport, with repairer: VerifyRepair, source: any VerifySide) async throws -> RepairOutcome {
        try await repairer.run(report.verifyReport, job: job, source: source)
    }

    /// Reconciles the source's events with `delivered`.
    /// - Parameter refused: why the receiver refused events, by id (`refusals(in:)`).
    public func verify(delivered: Set<String>, refused: [String: String]) async throws -> DeliveryReport {
        let started = ContinuousClock.now
        var report = DeliveryReport(job: job.spec.name)
        report.deliveredIDs = delivered.count
        var inSource: Set<String> = []
        var missingKeys: [[Value]] = []
        for chunk in try await source.plan(workers: 1) {
            var cursor: Cursor?
            while true {
                let batch = try await source.read(chunk: chunk.range, after: cursor, limit: batchSize)
                report.unreadableSourceRecords += batch.rejected.count
                for row in batch.rows {
                    let id = EventID.text(row[idIndex])
                    guard inSource.insert(id).inserted else { continue }
                    report.sourceEvents += 1
                    if delivered.contains(id) {
                        report.delivered += 1
                        continue
                    }
                    let reason = refused[id]
                    if reason != nil { report.refused += 1 } else { report.neverDelivered += 1 }
                    missingKeys.append(job.key(of: row))
                    if report.undelivered.count < reportLimit {
                        report.undelivered.append(DeliveryReport.Undelivered(id: id, key: job.key(of: row), refusal: reason))
                    }
                }
                cursor = batch.cursor
                if batch.isLast { break }
            }
        }
        for id in delivered.sorted() where !inSource.contains(id) {
            report.deliveredNotInSource += 1
            if report.notInSource.count < reportLimit { report.notInSource.append(id) }
        }
        report.repairKeys = missingKeys
        report.seconds = started.duration(to: .now).inSeconds
        report.conclude()
        return report
    }
}

/// The result of `backfill verify` on an events job.
public struct DeliveryReport: Sendable, Codable {
    /// An event of the source that was not delivered.
    public struct Undelivered: Sendable, Codable, Hashable {
        public var id: String
        public var key: [Value]
        /// The receiver's refusal a run recorded (status and answer); `nil`: never delivered.
        public var refusal: String?
    }

    public var job: String
    /// Distinct events in the source's range.
    public var sourceEvents = 0
    /// Ids the ledger (or the JSONL file) holds.
    public var deliveredIDs = 0
    /// Source events delivered.
    public var delivered = 0
    /// Source events a receiver refused (quarantined with its answer).
    public var refused = 0
    /// Source events never delivered nor refused.
    public var neverDelivered = 0
    /// Delivered ids the source no longer holds (reported; not a failure).
    public var deliveredNotInSource = 0
    /// Source records that could not be read (malformed lines).
    public var unreadableSourceRecords = 0
    /// The first undelivered events (the counts above are complete).
    public var undelivered: [Undelivered] = []
    /// The first delivered ids the source no longer holds.
    public var notInSource: [String] = []
    public var seconds = 0.0
    /// `delivered` when every source event was, else `missing` (set by `conclude()`).
    public var result = ""
    /// The keys of every undelivered event, for `--repair` (not in JSON).
    public var repairKeys: [[Value]] = []

    enum CodingKeys: String, CodingKey {
        case job, sourceEvents, deliveredIDs, delivered, refused, neverDelivered, deliveredNotInSource, unreadableSourceRecords
        case undelivered, notInSource, seconds, result
    }

    public init(job: String) { self.job = job }

    /// Every source event was delivered.
    public var complete: Bool { refused + neverDelivered == 0 }

    public mutating func conclude() { result = complete ? "delivered" : "missing" }

    /// As `status` and `report` show a verification: undelivered events as missing, delivered ids
    /// the source lacks as extra.
    public var verifyReport: VerifyReport {
        var report = VerifyReport(job: job)
        report.sourceRows = sourceEvents
        report.targetRows = deliveredIDs
        report.missing = refused + neverDelivered
        report.repairKeys = repairKeys
        report.conclude()
        return report
    }
}
