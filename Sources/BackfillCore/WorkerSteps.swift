import Logging

/// Carries out what a worker's `RunStateMachine` decided: stores status changes, announces
/// waits, hands chunks back, and says whether the worker goes on, waits, leaves its chunk or stops.
struct WorkerSteps: Sendable {
    let context: WorkerContext

    /// Where the worker goes next.
    enum Step: Equatable {
        case proceed
        case wait(WaitReason)
        case leaveChunk
        case stop(StopReason)
    }

    /// Performs `actions` in order; `chunk` is the chunk the worker holds, if any. A stop among
    /// them is the step returned.
    func perform(
        _ actions: [RunStateMachine.Action], holding chunk: ChunkRecord?, sizer: inout BatchSizer, logger: Logger
    ) async throws -> Step {
        var step = Step.proceed
        for action in actions {
            // A stop stands; the actions after it still run.
            if case .stop = step, action.movesTheWorker { continue }
            switch action {
            case .persist(let change):
                if try await context.state.apply(change, runID: context.runID), change.to == .paused {
                    logger.warning("run paused by the error guard", metadata: [LogKey.reason: .string(change.reason ?? "")])
                }
            case .announceWaiting(let reason):
                try await announce(waiting: reason, logger: logger)
            case .announceGoingOn(let reason):
                try await announce(goingOnAfter: reason, logger: logger)
            case .backOff:
                // One controller: a source that asks for less load also gets smaller batches.
                sizer.backOff()
            case .releaseChunk:
                if let chunk { try await context.state.releaseChunk(id: chunk.id) }
            case .leaveChunk:
                step = .leaveChunk
            case .stop(let reason):
                // The other workers of this process stop before their next batch too.
                if case .errorGuard = reason { await context.stop.set() }
                step = .stop(reason)
            case .wait(let reason):
                step = .wait(reason)
            case .proceed, .ignore:
                break
            }
        }
        return step
    }

    private func announce(waiting reason: WaitReason, logger: Logger) async throws {
        if reason.kind == .paused {
            let run = try await context.state.run(id: context.runID)
            logger.info("run paused; waiting for resume", metadata: [LogKey.reason: .string(run?.reason ?? "paused")])
            context.observer.statusChanged(.paused, reason: run?.reason)
            return
        }
        logger.info("run waiting", metadata: [LogKey.reason: .string(reason.message)])
        try await context.state.setWaitingReason(runID: context.runID, reason.message)
        try await context.state.recordEvent(runID: context.runID, kind: "waiting", message: reason.message)
    }

    private func announce(goingOnAfter reason: WaitReason, logger: Logger) async throws {
        if reason.kind == .paused {
            logger.info("run resumed")
            context.observer.statusChanged(.running, reason: nil)
            return
        }
        logger.info("run going on")
        try await context.state.setWaitingReason(runID: context.runID, nil)
    }
}

extension RunStateMachine.Action {
    /// Whether the action only says where the worker goes (a stop before it wins).
    var movesTheWorker: Bool {
        switch self {
        case .proceed, .wait, .leaveChunk: return true
        default: return false
        }
    }
}
