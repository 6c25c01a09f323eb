import BackfillCore
import Foundation
import ServiceLifecycle
import Synchronization

/// A run as a swift-service-lifecycle `Service`. Graceful shutdown (SIGTERM, SIGINT) lets each
/// worker finish its batch and checkpoint, hands the chunks back (another process can take them
/// at once) and ends the run resumable; a second signal ends the process at once.
final class RunnerService: Service {
    private let runner: Runner
    private let run: RunRecord
    private let stop: StopSignal
    private let outcome = Mutex<Result<RunSummary, any Error>?>(nil)
    /// Watches for signals from the start, so that none can arrive unwatched: the first stops the
    /// run after its batches too (before the group listens), the second ends the process.
    private let secondSignal: SecondSignalStop

    /// - Parameter stop: the signal the runner's configuration watches (`RunnerConfiguration.stop`).
    init(runner: Runner, run: RunRecord, stop: StopSignal) {
        self.runner = runner
        self.run = run
        self.stop = stop
        self.secondSignal = SecondSignalStop(onFirst: { Task { await stop.set() } })
    }

    /// Runs the run to its end. Never throws: the run's own error is kept for `summary()`, so the
    /// group ends the other services gracefully instead of cancelling them.
    func run() async throws {
        let (runner, run, stop) = (self.runner, self.run, self.stop)
        let result = await withGracefulShutdownHandler { () async -> Result<RunSummary, any Error> in
            do { return .success(try await runner.execute(run: run)) } catch { return .failure(error) }
        } onGracefulShutdown: {
            // The second signal ends the process (`SecondSignalStop`, watching since `init`).
            FileHandle.standardError.write(Data("stopping after the current batch; signal again to stop at once\n".utf8))
            Task { await stop.set() }
        }
        outcome.withLock { $0 = result }
    }

    /// The run's summary, or the error that ended it.
    /// - Throws: the runner's error; `CancellationError` when the group was cancelled before the run ended.
    func summary() throws -> RunSummary {
        guard let result = outcome.withLock({ $0 }) else { throw CancellationError() }
        return try result.get()
    }
}
