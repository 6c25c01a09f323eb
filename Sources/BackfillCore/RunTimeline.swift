import Foundation

/// Wall-clock accounting of one execution, shared by its workers: time with at least one batch in
/// flight counts as working, time when no worker works but one waits (pause, window, throttle)
/// counts as waiting. Summing per-worker batch times instead would count two busy workers twice.
actor RunTimeline {
    private let clock: any RunClock
    private var busy = 0
    private var waiting = 0
    private var last: ContinuousClock.Instant
    private var working: Duration = .zero
    private var waited = WaitTimes()
    /// Why the run waits now (the latest reason a worker saw).
    private var reason: WaitTimes.Reason?
    /// The signal that held a worker back last, since when (wall clock) and when it last did.
    private var binding: (signal: ControlSignal, since: Date, last: ContinuousClock.Instant)?
    /// The binding last handed to `take()` (`nil`: none handed yet), to store only changes.
    private var reportedBinding: ControlSignal??

    /// Where waiting time also goes as it passes (not only at the next checkpoint).
    private let metrics: RunMetrics?

    init(metrics: RunMetrics? = nil, clock: any RunClock = SystemClock()) {
        self.clock = clock
        last = clock.now
        self.metrics = metrics
    }

    private func advance() {
        let now = clock.now
        let elapsed = last.duration(to: now)
        if busy > 0 {
            working += elapsed
        } else if waiting > 0, let reason {
            waited.add(elapsed.inSeconds, for: reason)
            metrics?.waited(elapsed.inSeconds, for: reason)
        }
        last = now
    }

    func beginBatch() { advance(); busy += 1 }
    func endBatch() { advance(); busy -= 1 }
    func beginWait() { advance(); waiting += 1 }
    func endWait() { advance(); waiting -= 1 }
    /// Why the run waits from now on; `nil` when it goes on (the pre-batch checks are not waiting).
    func waiting(because reason: WaitTimes.Reason?) { advance(); self.reason = reason }

    /// A budget or health signal held a worker back for `seconds` (0: it binds, the time is not
    /// known yet — a gate that just closed).
    func held(by signal: ControlSignal, seconds: Double) {
        advance()
        if seconds > 0 {
            waited.held[signal.rawValue, default: 0] += seconds
            metrics?.held(seconds, by: signal)
        }
        let now = clock.now
        if binding?.signal == signal {
            binding?.last = now
        } else {
            binding = (signal, clock.date, now)
        }
    }

    /// The workers ended: nothing binds any more.
    func workersEnded() { binding = nil }

    /// Nothing held the run back for five seconds: no signal binds. (A worker waiting off a signal
    /// says so every poll interval; the margin keeps a starved machine's late wake-ups from
    /// flickering the binding to none.)
    private func bindingNow() -> ControlSignal? {
        guard let binding, binding.last.duration(to: clock.now) < .seconds(5) else { return nil }
        return binding.signal
    }

    /// Working and waiting seconds since the last call, and the binding signal when it changed
    /// (or always, with `binding`: the periodic flush keeps a stored binding current however
    /// checkpoints from several workers were ordered).
    func take(binding forced: Bool = false) -> (working: Double, waited: WaitTimes) {
        advance()
        let now = bindingNow()
        if forced || reportedBinding != .some(now) {
            reportedBinding = .some(now)
            waited.binding = WaitTimes.Binding(signal: now, since: now == nil ? clock.date : binding?.since ?? clock.date)
        }
        defer {
            working = .zero
            waited = WaitTimes()
        }
        return (working.inSeconds, waited)
    }

    /// Puts back time taken for a checkpoint that was never committed (a sealed write the target
    /// refused, whose batch is then split and checkpointed after all), so the next checkpoint counts it.
    func giveBack(working seconds: Double, waited times: WaitTimes) {
        working += .milliseconds(Int64((seconds * 1000).rounded()))
        let binding = waited.binding
        waited = waited + times
        // A binding taken since is newer than the one given back.
        waited.binding = binding ?? times.binding
    }
}
