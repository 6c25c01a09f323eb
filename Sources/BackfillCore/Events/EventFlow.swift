import Logging

/// Delivers the events of one claimed chunk across its batches: an order key's next event waits
/// only for that key's previous one, other keys keep flowing, and reading goes on while fewer than
/// a window of events are unsettled — there is no barrier between batches.
///
/// The worker reads its next batch once there is room in the window (`waitForRoom`), admits it
/// (`admit`) and takes back the batches settled so far, in order (`takeSettled`): a batch is settled when each
/// of its events was acknowledged (and recorded in the ledger) or refused. Its checkpoint — the
/// contiguous prefix of settled batches — is what a resume starts after; events acknowledged
/// beyond it are in the ledger and are not sent again.
///
/// At most `ConcurrencyLimit.current` requests are in flight (additive increase, multiplicative
/// decrease on 429s, 503s and unanswered requests). A failed request is tried again after its
/// `Retry-After` or a backoff — only that event, and so only its key, waits; its slot goes to
/// another key meanwhile. An event that fails `attemptsPerRound` times starts another round after
/// the run's backoff; after the run's `retries` rounds the flow fails with its error. Requests
/// that get no answer at all open the receiver's circuit (`ReceiverHealth`): one probe at a time
/// until it answers, without counting against the events.
public actor EventFlow {
    /// What the runner keeps of an admitted batch until it is settled.
    public struct Batch: Sendable {
        /// Where the chunk's reading stands after the batch.
        public var cursor: Cursor?
        public var isLast: Bool
        /// The batch's counters before delivery: rows read, events already in the ledger
        /// (`unchanged`), records quarantined while shaping, rows shipped.
        public var counters: Counters
        public var quarantine: [QuarantineRecord]

        public init(cursor: Cursor?, isLast: Bool, counters: Counters, quarantine: [QuarantineRecord]) {
            self.cursor = cursor
            self.isLast = isLast
            self.counters = counters
            self.quarantine = quarantine
        }
    }

    /// A batch whose every event was settled.
    public struct Settled: Sendable {
        public var batch: Batch
        public var delivered: Int
        /// Events the receiver refused, with the reason.
        public var refused: [(row: [Value], reason: String)]
        /// Requests retried for the batch's events.
        public var retries: Int
    }

    /// One event and the requests that failed for it so far.
    struct Event: Sendable {
        let row: [Value]
        let id: String
        let batch: Int
        /// Failed requests (the event's retries once it is settled).
        var failures = 0
        /// Failures held against the event itself (not those while the receiver did not answer
        /// anyone): they count towards its rounds.
        var strikes = 0
    }

    private struct Open: Sendable {
        var batch: Batch
        var unsettled: Int
        var delivered = 0
        var refused: [(row: [Value], reason: String)] = []
        var retries = 0
    }

    private enum Finished: Sendable {
        case answered(key: Value, Event, request: Int, probe: Bool, DeliveryAttempt)
        case due(key: Value, Event)
        case probeDue
        case recorded([String], (any Error)?)
        case woken
    }

    private enum Closing { case drain, now }

    private let deliverer: any EventDeliverer
    private let clock: any RunClock
    /// Rounds after the first an event may start (the run's `retries`), and their backoff base.
    private let rounds: Int
    private let roundBackoff: Duration
    private let logger: Logger
    private let circuitOpened: @Sendable (String) async -> Void

    private var queues = KeyedQueues<Event>()
    private(set) var limit: ConcurrencyLimit
    private(set) var health: ReceiverHealth
    /// While the circuit is open: the wait before the next probe has passed.
    private var probeAllowed = false
    private var probeTimer = false
    private var inFlight = 0
    private var sent = 0
    private var open: [Int: Open] = [:]
    private var nextBatch = 0
    private var firstOpen = 0
    private var unsettled = 0
    /// Acknowledged events not yet recorded in the ledger.
    private var acknowledged: [String] = []
    /// The group being recorded (one at a time), and how many groups were started and finished.
    private var recordingIDs: [String] = []
    private var groupsStarted = 0
    private var groupsFinished = 0
    private var failure: (any Error)?
    private var closing: Closing?
    /// `run()` returned: nothing is sent any more.
    private var ended = false
    /// The run waits (paused, a gate closed): nothing new is sent meanwhile.
    private var held = false
    private var wake: CheckedContinuation<Void, Never>?
    private var wakePending = false
    /// The worker waiting for room in the window, or for every event to settle — until its timer.
    private var spaceWaiter: (token: Int, needed: Int, window: Int, continuation: CheckedContinuation<Void, Never>)?
    private var settleWaiter: (token: Int, continuation: CheckedContinuation<Void, Never>)?
    private var timers = 0
    /// Workers waiting for the groups started before their flush to finish.
    private var recordWaiters: [(group: Int, continuation: CheckedContinuation<Void, Never>)] = []
    /// The chunk's last batch has been admitted: the source has nothing more.
    public private(set) var exhausted = false

    /// Whether some admitted batch is not taken back settled yet.
    public var hasUnsettled: Bool { open[firstOpen] != nil }

    /// Acknowledged events are recorded in the ledger in groups of this many as they come in,
    /// one group at a time; while twice this many wait or are being recorded, no new request goes
    /// out. So a crash can re-send at most `2 × ledgerGroup` acknowledged events, and the requests
    /// in flight.
    public static let ledgerGroup = 32

    /// - Parameters:
    ///   - rounds, roundBackoff: the run's `retries` and backoff base (`RunnerConfiguration`).
    ///   - circuitFailures, circuitCoolDown: the job's `limits.circuit`: unanswered requests in a
    ///     row that open the receiver's circuit, and the longest wait between probes.
    ///   - circuitOpened: told (with a message) each time the receiver's circuit opens.
    public init(
        deliverer: any EventDeliverer, clock: any RunClock, rounds: Int, roundBackoff: Duration, circuitFailures: Int,
        circuitCoolDown: Duration, logger: Logger, circuitOpened: @escaping @Sendable (String) async -> Void
    ) {
        self.deliverer = deliverer
        self.clock = clock
        self.rounds = max(0, rounds)
        self.roundBackoff = roundBackoff
        self.logger = logger
        self.circuitOpened = circuitOpened
        self.limit = ConcurrencyLimit(maximum: deliverer.concurrency)
        self.health = ReceiverHealth(
            failuresToOpen: circuitFailures, firstProbe: deliverer.backoff, longestProbe: circuitCoolDown,
            maxFailedProbes: deliverer.attemptsPerRound * (max(0, rounds) + 1))
    }

    // MARK: The worker's side

    /// Waits up to `timeout` until `needed` more events fit in `window` unsettled events (a batch
    /// always fits when nothing is unsettled); whether they fit. The worker reads its next batch
    /// only then, and otherwise goes round its loop (a pause, a stop) and asks again.
    public func waitForRoom(_ needed: Int, window: Int, timeout: Duration) async throws -> Bool {
        try checkRunning()
        if fits(needed, window) { return true }
        let token = startTimer(timeout)
        await withCheckedContinuation { spaceWaiter = (token, needed, window, $0) }
        try checkRunning()
        return fits(needed, window)
    }

    private func fits(_ needed: Int, _ window: Int) -> Bool { unsettled == 0 || unsettled + needed <= window }

    /// Admits a batch's events, to be delivered after every event admitted before them.
    public func admit(_ rows: [[Value]], ids: [String], as batch: Batch) throws {
        try checkRunning()
        let number = nextBatch
        nextBatch += 1
        open[number] = Open(batch: batch, unsettled: rows.count)
        for (row, id) in zip(rows, ids) {
            queues.append(Event(row: row, id: id, batch: number), key: deliverer.orderKey(of: row) ?? .text(id))
        }
        unsettled += rows.count
        if batch.isLast { exhausted = true }
        signal()
    }

    /// The batches settled since the last call, in the order they were admitted, up to the first
    /// one still unsettled; their acknowledged events are recorded in the ledger first.
    public func takeSettled() async throws -> [Settled] {
        try checkFailure()
        var settled: [Settled] = []
        while let batch = open[firstOpen], batch.unsettled == 0 {
            open[firstOpen] = nil
            firstOpen += 1
            settled.append(Settled(batch: batch.batch, delivered: batch.delivered, refused: batch.refused, retries: batch.retries))
        }
        if !settled.isEmpty { try await flushLedger() }
        return settled
    }

    /// Waits up to `timeout` until every admitted event is settled, then `takeSettled()`.
    public func settleAll(timeout: Duration) async throws -> [Settled] {
        try checkRunning()
        if unsettled > 0 {
            let token = startTimer(timeout)
            await withCheckedContinuation { settleWaiter = (token, $0) }
            try checkRunning()
        }
        return try await takeSettled()
    }

    /// A timer that ends the worker's wait it is started for after `timeout`.
    private func startTimer(_ timeout: Duration) -> Int {
        timers += 1
        let (token, clock) = (timers, self.clock)
        Task {
            try? await clock.sleep(for: timeout)
            await self.expire(token)
        }
        return token
    }

    private func expire(_ token: Int) {
        if let waiter = spaceWaiter, waiter.token == token {
            spaceWaiter = nil
            waiter.continuation.resume()
        }
        if let waiter = settleWaiter, waiter.token == token {
            settleWaiter = nil
            waiter.continuation.resume()
        }
    }

    /// Records the acknowledged events the ledger does not hold yet, and waits for the group
    /// being recorded when it was called (not for groups started after).
    public func flushLedger() async throws {
        let started = groupsStarted
        if !acknowledged.isEmpty {
            let ids = acknowledged
            acknowledged = []
            do {
                try await recordRetrying(ids)
            } catch {
                acknowledged.insert(contentsOf: ids, at: 0)
                throw error
            }
        }
        while groupsFinished < started, !ended { await withCheckedContinuation { recordWaiters.append((started, $0)) } }
        try checkFailure()
    }

    /// Records `ids`, retrying transient failures of the state store as the runner does.
    private nonisolated func recordRetrying(_ ids: [String]) async throws {
        try await Retry(attempts: rounds, base: roundBackoff, clock: clock).run { try await deliverer.record(ids) }
    }

    /// While `held`, no new request goes out (the run is paused or a gate holds it back); the
    /// requests in flight are answered.
    public func hold(_ held: Bool) {
        guard held != self.held else { return }
        self.held = held
        if !held { signal() }
    }

    /// Ends the flow: with `drain`, the requests in flight are answered first (nothing new goes
    /// out); otherwise they are abandoned. `run()` returns once it is done.
    public func close(drain: Bool) {
        if closing != .now { closing = drain ? .drain : .now }
        signal()
    }

    // MARK: The dispatcher

    /// Sends events as the limit and each key's order allow until `close` (or a failure, or
    /// cancellation).
    public func run() async {
        await withTaskGroup(of: Finished.self) { group in
            var waiting = false
            while !Task.isCancelled {
                if closing == .now || (closing == .drain && inFlight == 0 && recordingIDs.isEmpty) { break }
                if closing == nil { startReady(&group) }
                if acknowledged.count >= Self.ledgerGroup, recordingIDs.isEmpty { startRecording(&group) }
                if !waiting {
                    waiting = true
                    group.addTask { await self.waitForWork() }
                }
                guard let finished = await group.next() else { break }
                switch finished {
                case .woken:
                    waiting = false
                case .answered(let key, let event, let request, let probe, let attempt):
                    inFlight -= 1
                    if let retry = await answered(attempt, key: key, event: event, request: request, probe: probe) {
                        if retry.delay <= .zero {
                            queues.again(key: key, head: retry.event)
                        } else {
                            let clock = self.clock
                            group.addTask {
                                try? await clock.sleep(for: retry.delay)
                                return .due(key: key, retry.event)
                            }
                        }
                    }
                    if health.isOpen, !probeAllowed, !probeTimer, inFlight == 0 {
                        probeTimer = true
                        let (clock, delay) = (self.clock, health.probeDelay)
                        group.addTask {
                            try? await clock.sleep(for: delay)
                            return .probeDue
                        }
                    }
                case .due(let key, let event):
                    queues.again(key: key, head: event)
                case .probeDue:
                    probeTimer = false
                    probeAllowed = true
                case .recorded(let ids, let error):
                    recorded(ids, error)
                }
            }
            if Task.isCancelled { fail(CancellationError()) }
            closing = .now
            group.cancelAll()
            signal()
            // What the abandoned tasks still bring: acknowledgements to record, groups recorded.
            while let finished = await group.next() {
                switch finished {
                case .answered(_, let event, _, _, let attempt) where attempt == .delivered:
                    acknowledged.append(event.id)
                case .recorded(let ids, let error):
                    recorded(ids, error)
                default:
                    break
                }
            }
        }
        ended = true
        resumeAll()
    }

    /// Sends ready events while the limit allows — while the receiver's circuit is open, one
    /// probe once its wait has passed.
    private func startReady(_ group: inout TaskGroup<Finished>) {
        let deliverer = self.deliverer
        while failure == nil, !held, inFlight < limit.current, acknowledged.count + recordingIDs.count < 2 * Self.ledgerGroup {
            let probe = health.isOpen
            if probe, !probeAllowed || inFlight > 0 { return }
            guard let (key, event) = queues.take() else { return }
            if probe { probeAllowed = false }
            inFlight += 1
            sent += 1
            let request = sent
            group.addTask { .answered(key: key, event, request: request, probe: probe, await deliverer.attempt(event.row, id: event.id)) }
        }
    }

    /// Records the next group of acknowledgements beside the deliveries.
    private func startRecording(_ group: inout TaskGroup<Finished>) {
        let ids = Array(acknowledged.prefix(Self.ledgerGroup))
        acknowledged.removeFirst(ids.count)
        recordingIDs = ids
        groupsStarted += 1
        group.addTask {
            do {
                try await self.recordRetrying(ids)
                return .recorded(ids, nil)
            } catch {
                return .recorded(ids, error)
            }
        }
    }

    /// A group was recorded — or not: then its ids wait again (a later flush records them) and the flow fails.
    private func recorded(_ ids: [String], _ error: (any Error)?) {
        recordingIDs = []
        groupsFinished += 1
        if let error {
            acknowledged.insert(contentsOf: ids, at: 0)
            if failure == nil { fail(error) }
        }
        let ready = recordWaiters.filter { $0.group <= groupsFinished }
        recordWaiters.removeAll { $0.group <= groupsFinished }
        for waiter in ready { waiter.continuation.resume() }
    }

    /// Settles the event, or says when to try it again.
    private func answered(
        _ attempt: DeliveryAttempt, key: Value, event: Event, request: Int, probe: Bool
    ) async -> (delay: Duration, event: Event)? {
        // An acknowledgement is recorded whatever happens next.
        if attempt == .delivered { acknowledged.append(event.id) }
        guard closing != .now, failure == nil else { return nil }
        if case .unanswered(let reason) = attempt {
            limit.answered(overloaded: true, request: request, sent: sent)
            return await unanswered(reason, key: key, event: event, probe: probe)
        }
        // An answer to a request sent before the circuit opened says nothing about now.
        if !health.isOpen || probe, health.answered() { logger.info("the receiver answers again; circuit closed") }
        switch attempt {
        case .delivered:
            limit.answered(overloaded: false, request: request, sent: sent)
            await settle(event, key: key) { $0.delivered += 1 }
            return nil
        case .refused(let reason):
            limit.answered(overloaded: false, request: request, sent: sent)
            await settle(event, key: key) { $0.refused.append((event.row, reason)) }
            return nil
        case .failed(let reason, let retryAfter, let overloaded):
            limit.answered(overloaded: overloaded, request: request, sent: sent)
            return failed(event, reason: reason, delay: retryAfter)
        case .unanswered:
            return nil
        }
    }

    /// A request without an answer: held against the event only while others are answered;
    /// otherwise the receiver's circuit decides when the next request goes.
    private func unanswered(_ reason: String, key: Value, event: Event, probe: Bool) async -> (delay: Duration, event: Event)? {
        let wasOpen = health.isOpen
        switch health.notAnswered(probe: probe) {
        case .opened:
            let message = "circuit open for the receiver after \(health.unanswered) requests in a row got no answer "
                + "(last: \(reason)); one probe at a time, at most \(health.longestProbe) apart, until it answers"
            logger.warning("circuit open", metadata: [LogKey.reason: .string(message)])
            await circuitOpened(message)
        case .gone:
            fail(BackfillError(
                .unavailable, kind: .transient, "the receiver did not answer \(health.failedProbes) probes in a row (last: \(reason))",
                location: deliverer.endpoint))
            return nil
        case .none, .probeFailed:
            break
        }
        guard closing == nil else { return nil }
        if wasOpen || health.isOpen {
            var again = event
            again.failures += 1
            return (.zero, again)
        }
        return failed(event, reason: reason, delay: nil)
    }

    /// A failure held against the event: tried again after `delay` (`Retry-After`) or a backoff;
    /// after `attemptsPerRound` of them, after the run's backoff — or the flow fails.
    private func failed(_ event: Event, reason: String, delay: Duration?) -> (delay: Duration, event: Event)? {
        // A draining flow sends nothing new: the event stays unsettled, for the next run.
        guard closing == nil else { return nil }
        var again = event
        again.failures += 1
        again.strikes += 1
        let inRound = again.strikes % deliverer.attemptsPerRound
        if inRound != 0 {
            logger.debug("retrying an event", metadata: [LogKey.event: .string(event.id), LogKey.reason: .string(reason)])
            return (delay ?? Backoff.jittered(base: deliverer.backoff, attempt: inRound), again)
        }
        let round = again.strikes / deliverer.attemptsPerRound
        let error = BackfillError(
            .unavailable, kind: .transient,
            "event \(event.id) was not acknowledged after \(deliverer.attemptsPerRound) attempts (last: \(reason))",
            location: deliverer.endpoint)
        guard round <= rounds else {
            fail(error)
            return nil
        }
        var metadata = Runner.errorMetadata(error)
        metadata[LogKey.attempt] = .stringConvertible(round)
        logger.warning("deliver failed; retrying", metadata: metadata)
        return (max(delay ?? .zero, Backoff.jittered(base: roundBackoff, attempt: round)), again)
    }

    private func settle(_ event: Event, key: Value, _ update: (inout Open) -> Void) async {
        queues.done(key: key)
        if var batch = open[event.batch] {
            update(&batch)
            batch.unsettled -= 1
            batch.retries += event.failures
            open[event.batch] = batch
        }
        unsettled -= 1
        if let waiter = spaceWaiter, fits(waiter.needed, waiter.window) {
            spaceWaiter = nil
            waiter.continuation.resume()
        }
        if unsettled == 0, let waiter = settleWaiter {
            settleWaiter = nil
            waiter.continuation.resume()
        }
        await deliverer.settled(afterRetries: event.failures)
    }

    private func fail(_ error: any Error) {
        if failure == nil { failure = error }
        closing = .now
        resumeAll()
    }

    private func checkFailure() throws {
        if let failure { throw failure }
    }

    /// Throws the failure, or `CancellationError` once the flow has ended.
    private func checkRunning() throws {
        try checkFailure()
        if ended { throw CancellationError() }
    }

    private func resumeAll() {
        if let waiter = spaceWaiter {
            spaceWaiter = nil
            waiter.continuation.resume()
        }
        if let waiter = settleWaiter {
            settleWaiter = nil
            waiter.continuation.resume()
        }
        let waiters = recordWaiters
        recordWaiters = []
        for waiter in waiters { waiter.continuation.resume() }
    }

    /// Returns once there is something new to do (an admitted batch, a close).
    private func waitForWork() async -> Finished {
        if wakePending {
            wakePending = false
            return .woken
        }
        await withCheckedContinuation { wake = $0 }
        return .woken
    }

    private func signal() {
        if let wake {
            self.wake = nil
            wake.resume()
        } else {
            wakePending = true
        }
    }
}
