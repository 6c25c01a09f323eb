/// The workers of one execution in a task group, with a supervisor that starts more of them when
/// the run's `workers` knob grows (`backfill set RUN workers=N`); ends when every worker ended.
struct WorkerPool: Sendable {
    let context: WorkerContext
    let pipeline: BatchPipeline

    /// What a child task of the group reports.
    private enum Report: Sendable {
        case workerEnded(WorkerExit)
        /// The supervisor saw the knob ask for more workers than are active.
        case moreWorkersWanted
        /// The supervisor ended (the pool is closing).
        case supervisorEnded
    }

    /// Runs the workers; returns why workers stopped before the chunks ran out (none when they ran out).
    func run() async throws -> [StopReason] {
        try await withThrowingTaskGroup(of: Report.self) { group in
            var active = 0
            func startWorkers() async {
                for number in await context.slots.workersToStart() {
                    active += 1
                    let worker = ChunkWorker(context: context, number: number, pipeline: pipeline)
                    group.addTask { .workerEnded(try await worker.run()) }
                }
            }
            await startWorkers()
            group.addTask { await supervise() }
            var stops: [StopReason] = []
            while let report = try await group.next() {
                switch report {
                case .moreWorkersWanted:
                    await startWorkers()
                    group.addTask { await supervise() }
                    continue
                case .supervisorEnded:
                    continue
                case .workerEnded(let exit):
                    active -= 1
                    switch exit {
                    case .retired: break
                    case .noMoreChunks: await context.slots.ended()
                    case .stopped(let reason):
                        stops.append(reason)
                        await context.slots.ended()
                    }
                }
                if active == 0 {
                    group.cancelAll()
                    break
                }
            }
            return stops
        }
    }

    /// Waits until the run's `workers` knob asks for more workers than are active.
    private func supervise() async -> Report {
        while !Task.isCancelled {
            if let run = try? await context.state.run(id: context.runID), let wanted = run.knobs.workers,
                wanted > (await context.slots.allowed)
            {
                await context.slots.allow(wanted)
                return .moreWorkersWanted
            }
            do {
                try await context.clock.sleep(for: context.configuration.pollInterval)
            } catch {
                break
            }
        }
        return .supervisorEnded
    }
}
