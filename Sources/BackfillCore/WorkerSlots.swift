/// Tells every worker of an execution to stop before its next batch (the error guard paused the
/// run and this process is not waiting for `resume`).
/// Tells a run's workers to stop before their next batch, handing their chunks back (the error
/// guard sets it, and so does `backfill run`/`worker` on SIGTERM or SIGINT).
public actor StopSignal {
    public private(set) var isSet = false
    public init() {}
    public func set() { isSet = true }
}

/// How many workers a run may have (`workers`, or `backfill set RUN workers=N`) and how many it has.
actor WorkerSlots {
    private(set) var allowed: Int
    private(set) var active = 0
    private var nextNumber = 0

    init(allowed: Int) { self.allowed = max(1, allowed) }

    /// Adopts a new allowance (from the run's knobs).
    func allow(_ count: Int) { allowed = max(1, count) }

    /// Numbers for the workers to start so that `active` reaches `allowed`.
    func workersToStart() -> [Int] {
        guard active < allowed else { return [] }
        let numbers = Array(nextNumber..<(nextNumber + allowed - active))
        nextNumber += numbers.count
        active = allowed
        return numbers
    }

    /// Whether a worker must stop because there are more workers than allowed; if so, it is counted out.
    func shouldRetire() -> Bool {
        guard active > allowed else { return false }
        active -= 1
        return true
    }

    /// A worker ended for another reason.
    func ended() { active -= 1 }
}
