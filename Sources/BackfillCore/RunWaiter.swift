import Logging

/// Holds a worker before its next batch while the run is paused or a gate (pause file, window,
/// throttle) holds it back, applying the knobs set meanwhile; the worker holds no transaction.
struct RunWaiter: Sendable {
    let context: WorkerContext
    let steps: WorkerSteps

    init(context: WorkerContext) {
        self.context = context
        self.steps = WorkerSteps(context: context)
    }

    /// Returns `nil` when the worker may go on, or why it must stop (it then released `chunk`).
    /// While it waits, the chunk's event `flow` (if any) sends nothing new.
    func waitUntilClear(
        _ machine: inout RunStateMachine, holding chunk: ChunkRecord?, flow: EventFlow? = nil, sizer: inout BatchSizer, logger: Logger
    ) async throws -> StopReason? {
        await context.timeline.beginWait()
        do {
            let stop = try await loop(&machine, holding: chunk, flow: flow, sizer: &sizer, logger: logger)
            await context.timeline.endWait()
            // A stopping worker's flow stays held: it only drains what is in flight.
            if stop == nil { await flow?.hold(false) }
            return stop
        } catch {
            await context.timeline.endWait()
            throw error
        }
    }

    private func loop(
        _ machine: inout RunStateMachine, holding chunk: ChunkRecord?, flow: EventFlow?, sizer: inout BatchSizer, logger: Logger
    ) async throws -> StopReason? {
        while true {
            if await context.stop.isSet {
                await flow?.hold(true)
                return try await stop(machine.handle(.signal), holding: chunk, sizer: &sizer, logger: logger)
            }
            guard let run = try await context.state.directives(runID: context.runID) else { return .ended(.cancelled) }
            await apply(run.knobs, sizer: &sizer)
            switch try await steps.perform(machine.handle(.statusObserved(run.status)), holding: chunk, sizer: &sizer, logger: logger) {
            case .stop(let reason): return reason
            case .wait(let reason):
                await flow?.hold(true)
                await context.control.hold()
                await context.timeline.waiting(because: reason.kind)
                try await context.clock.sleep(for: context.configuration.pollInterval)
                continue
            case .proceed, .leaveChunk: break
            }
            if let reason = try await context.gates.reasonToWait() {
                await flow?.hold(true)
                await context.timeline.waiting(because: reason.kind)
                if let signal = reason.signal {
                    // Once per closing (not per second of waiting), the controller halves the run's
                    // load for it, so the run goes on gently once it clears.
                    await context.control.decrease(because: signal, capacity: await context.slots.allowed)
                    await context.timeline.held(by: signal, seconds: 0)
                } else {
                    await context.control.hold()
                }
                _ = try await steps.perform(machine.handle(.gateClosed(reason)), holding: chunk, sizer: &sizer, logger: logger)
                let delay = context.gates.retryDelay(for: reason)
                try await context.clock.sleep(for: delay)
                if let signal = reason.signal { await context.timeline.held(by: signal, seconds: delay.inSeconds) }
                continue
            }
            await context.control.healthy(capacity: await context.slots.allowed)
            await context.timeline.waiting(because: nil)
            _ = try await steps.perform(machine.handle(.gateOpened), holding: chunk, sizer: &sizer, logger: logger)
            return nil
        }
    }

    private func stop(
        _ actions: [RunStateMachine.Action], holding chunk: ChunkRecord?, sizer: inout BatchSizer, logger: Logger
    ) async throws -> StopReason? {
        if case .stop(let reason) = try await steps.perform(actions, holding: chunk, sizer: &sizer, logger: logger) { return reason }
        return nil
    }

    /// Applies knobs set while running: a new rate for the shared limiter, a fixed batch size, a
    /// number of workers.
    private func apply(_ knobs: RunKnobs, sizer: inout BatchSizer) async {
        if let rate = knobs.rowsPerSecond {
            await context.limiter.setRate(rate, burst: max(rate / 10, Double(sizer.size)))
        }
        if let size = knobs.batchSize, size != sizer.size || sizer.target != nil {
            sizer = BatchSizer(size: size, minimum: 1, maximum: size, target: nil)
        }
        if let workers = knobs.workers { await context.slots.allow(workers) }
        if let wal = knobs.walBytesPerSecond { await context.walBudget.setRate(wal) }
        if let bytes = knobs.bytesPerSecond { await context.byteBudget.setRate(bytes) }
    }
}
