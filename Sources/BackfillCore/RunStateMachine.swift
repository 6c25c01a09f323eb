/// Every status change of a run, decided without I/O.
///
/// A worker, the runner, `pause`/`resume`/`cancel` and verify's repair feed it what happened
/// (an `Event`); it answers with what to do (`Action`): store a status change — always as a
/// compare-and-set from the statuses it may replace, so a concurrent pause or cancel is never
/// overwritten — go on, wait, or stop. The legal moves are one table, `isLegal(from:to:)`, and
/// every `StatusChange` it returns stays inside it.
public struct RunStateMachine: Sendable, Equatable {
    /// The run's status as this machine last saw or set it.
    public private(set) var status: RunStatus
    /// Why the run waits right now (a closed gate or a pause), or `nil`.
    public private(set) var waiting: WaitReason?
    /// Set once this machine decided to stop.
    public private(set) var stop: StopReason?

    public init(status: RunStatus) {
        self.status = status
    }

    /// What happened to the run.
    public enum Event: Sendable, Equatable {
        /// The status read from the state store before a batch.
        case statusObserved(RunStatus)
        /// A gate (pause file, window, throttle) holds the run back.
        case gateClosed(WaitReason)
        /// No gate holds the run back.
        case gateOpened
        /// A batch's checkpoint committed; `chunkDone` when it was the chunk's last.
        case batchCommitted(chunkDone: Bool)
        /// The error guard found too many rows quarantined; `waitForResume` with `run --wait`.
        case errorRateExceeded(reason: String, rate: Double, waitForResume: Bool)
        /// Another process took the chunk over (its lease expired).
        case leaseLost
        /// The `--limit` budget is spent.
        case budgetExhausted(rows: Int)
        /// SIGTERM or SIGINT: stop after the batch in flight; the run stays resumable.
        case signal
        /// Every worker ended, for `stops`; `allChunksDone` when no chunk is left unfinished.
        case workersEnded(stops: [StopReason], allChunksDone: Bool, limit: Int?)
        /// A permanent error ended the run.
        case failed(message: String)
        /// `backfill pause|resume|cancel` or the API; `ownerAlive`: a live process executes the run.
        case requested(Request, ownerAlive: Bool)
        /// A newer `verify --repair` replaces this unfinished repair run.
        case superseded
    }

    /// A change asked for from outside the run.
    public enum Request: String, Sendable, Equatable, CaseIterable {
        case pause, resume, cancel
    }

    /// What to do about an event.
    public enum Action: Sendable, Equatable {
        /// Store this status change (compare-and-set) and record its event.
        case persist(StatusChange)
        /// Tell the state store, the log and the observer that the run waits.
        case announceWaiting(WaitReason)
        /// Tell them it no longer waits for this reason.
        case announceGoingOn(after: WaitReason)
        /// Make batches smaller: the source asked for less load.
        case backOff
        /// Go on with the next batch.
        case proceed
        /// Wait before looking again.
        case wait(WaitReason)
        /// Hand the chunk back to `pending` (the run stays resumable).
        case releaseChunk
        /// Leave the chunk to whoever holds it now, and move on.
        case leaveChunk
        /// Stop this worker (or the run).
        case stop(StopReason)
        /// Nothing to do: the event changes nothing in this status.
        case ignore
    }

    /// Decides what `event` means in the current status.
    public mutating func handle(_ event: Event) -> [Action] {
        switch event {
        case .statusObserved(let observed):
            status = observed
            switch observed {
            case .running, .planned:
                guard waiting == .paused else { return [.proceed] }
                waiting = nil
                return [.announceGoingOn(after: .paused), .proceed]
            case .paused:
                guard waiting != .paused else { return [.wait(.paused)] }
                waiting = .paused
                return [.announceWaiting(.paused), .wait(.paused)]
            case .cancelled, .failed, .completed:
                // The chunk goes back to pending: the run's chunks show where it stopped.
                return [.releaseChunk] + finish(.ended(observed))
            }
        case .gateClosed(let reason):
            guard status == .running || status == .planned else { return [.ignore] }
            guard waiting != reason else { return [.wait(reason)] }
            waiting = reason
            let announce: [Action] = [.announceWaiting(reason)]
            return announce + (reason.kind == .throttled || reason.kind == .health ? [.backOff] : []) + [.wait(reason)]
        case .gateOpened:
            guard let reason = waiting else { return [.proceed] }
            waiting = nil
            return [.announceGoingOn(after: reason), .proceed]
        case .batchCommitted(let chunkDone):
            return chunkDone ? [.leaveChunk] : [.proceed]
        case .errorRateExceeded(let reason, let rate, let waitForResume):
            guard status.isResumable else { return finish(.ended(status)) }
            let pause = Action.persist(StatusChange(from: [.running, .planned], to: .paused, reason: reason, event: "paused"))
            if waitForResume { return [pause, .proceed] }
            return [pause, .releaseChunk] + finish(.errorGuard(rate: rate))
        case .leaseLost:
            return [.leaveChunk]
        case .budgetExhausted(let rows):
            return [.releaseChunk] + finish(.limitReached(rows: rows))
        case .signal:
            return [.releaseChunk] + finish(.signal)
        case .workersEnded(let stops, let allChunksDone, let limit):
            return workersEnded(stops: stops, allChunksDone: allChunksDone, limit: limit)
        case .failed(let message):
            guard status.isResumable else { return [.ignore] }
            status = .failed
            return [.persist(StatusChange(from: [.planned, .running, .paused], to: .failed, reason: message, event: "failed"))]
                + finish(.ended(.failed))
        case .requested(let request, let ownerAlive):
            return requested(request, ownerAlive: ownerAlive)
        case .superseded:
            guard status.isResumable else { return [.ignore] }
            status = .cancelled
            return [.persist(StatusChange(
                from: [.planned, .running, .paused], to: .cancelled, reason: "superseded by a newer verify --repair", event: "cancelled"))]
        }
    }

    private mutating func finish(_ reason: StopReason) -> [Action] {
        if stop == nil { stop = reason }
        return [.stop(reason)]
    }

    private mutating func workersEnded(stops: [StopReason], allChunksDone: Bool, limit: Int?) -> [Action] {
        for case .errorGuard(let rate) in stops {
            // The worker stored the pause; a cancel that arrived meanwhile stands.
            return finish(.errorGuard(rate: rate))
        }
        guard status == .running || status == .planned else {
            // Paused, cancelled or ended by someone else while the workers ran: that stands.
            return finish(.ended(status))
        }
        if stops.contains(.signal) {
            return [.persist(StatusChange(
                from: [.running, .planned], to: status, reason: "stopped by a signal; run the spec again to continue",
                event: "interrupted"))] + finish(.signal)
        }
        if allChunksDone {
            status = .completed
            return [.persist(StatusChange(from: [.running, .planned], to: .completed, reason: nil, event: "completed"))]
                + finish(.completed)
        }
        status = .planned
        let reason = limit.map { "stopped after --limit \($0) rows; run the spec again to continue" }
            ?? "stopped before every chunk was done; run the spec again to continue"
        return [.persist(StatusChange(from: [.running, .planned], to: .planned, reason: reason, event: "planned"))]
            + finish(limit.map { .limitReached(rows: $0) } ?? .ended(.planned))
    }

    private mutating func requested(_ request: Request, ownerAlive: Bool) -> [Action] {
        guard status.isResumable else { return [.ignore] }
        let change: StatusChange
        switch request {
        case .pause:
            change = StatusChange(from: [.planned, .running, .paused], to: .paused, reason: "paused by request", event: "paused")
        case .cancel:
            change = StatusChange(from: [.planned, .running, .paused], to: .cancelled, reason: "cancelled by request", event: "cancelled")
        case .resume:
            // A live process picks the run up again; otherwise `backfill run SPEC` continues it.
            change = StatusChange(
                from: [.planned, .running, .paused], to: ownerAlive ? .running : .planned, reason: nil, event: "resumed")
        }
        status = change.to
        return [.persist(change)]
    }

    /// The moves a run's status may make. Terminal statuses never change; `planned` is a run no
    /// process executes (new, resumed without a live owner, or stopped at `--limit`).
    public static func isLegal(from: RunStatus, to: RunStatus) -> Bool {
        switch (from, to) {
        case (.cancelled, _), (.failed, _), (.completed, _): return false
        case (.planned, _), (.running, _): return true
        case (.paused, .completed): return false
        case (.paused, _): return true
        }
    }
}

/// A status change to store: `to` only if the run is still in one of `from` (compare-and-set).
public struct StatusChange: Sendable, Equatable {
    public var from: Set<RunStatus>
    public var to: RunStatus
    public var reason: String?
    /// The kind of the run event recorded with it (`paused`, `resumed`, `completed`, …).
    public var event: String

    public init(from: Set<RunStatus>, to: RunStatus, reason: String?, event: String) {
        self.from = from
        self.to = to
        self.reason = reason
        self.event = event
    }
}

/// Why a run waits.
public struct WaitReason: Sendable, Equatable {
    /// What holds it back, for the time spent waiting.
    public var kind: WaitTimes.Reason
    /// The sentence the status and the log show.
    public var message: String
    /// The budget or health signal behind it, when one is (the controller lowers the run's load
    /// for it, and its waiting counts for it).
    public var signal: ControlSignal?

    public init(_ kind: WaitTimes.Reason, _ message: String, signal: ControlSignal? = nil) {
        self.kind = kind
        self.message = message
        self.signal = signal
    }

    /// Paused by `backfill pause`, the API or the error guard.
    public static let paused = WaitReason(.paused, "paused")
}

/// Why a run (or one worker of it) stopped, typed: what the summary, the exit code and the next
/// `backfill run` act on.
public enum StopReason: Sendable, Equatable, Codable {
    /// Every chunk is done.
    case completed
    /// `run --limit N` read its N rows; the run is `planned` and the next run continues it.
    case limitReached(rows: Int)
    /// The error guard paused the run.
    case errorGuard(rate: Double)
    /// SIGTERM or SIGINT; chunks were handed back and the run stays resumable.
    case signal
    /// Someone else ended or paused the run (it is now in this status).
    case ended(RunStatus)
}
