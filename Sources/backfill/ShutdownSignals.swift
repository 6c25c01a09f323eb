import BackfillCore
import Foundation
import Synchronization

/// SIGTERM and SIGINT stop a run gracefully: each worker finishes its batch, hands its chunk back
/// (another process can take it at once, without waiting for a lease to expire) and the process
/// exits 4, the run resumable. A second signal ends the process at once.
enum ShutdownSignals {
    /// Installs the handlers and returns the signal they set, for `RunnerConfiguration.stop`.
    static func install() -> StopSignal {
        let stop = StopSignal()
        retained.withLock { sources in sources = makeSources(setting: stop) }
        return stop
    }

    private static func makeSources(setting stop: StopSignal) -> [any DispatchSourceSignal] {
        let queue = DispatchQueue(label: "backfill.signals")
        var installed: [any DispatchSourceSignal] = []
        for signal in [SIGTERM, SIGINT] {
            Foundation.signal(signal, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signal, queue: queue)
            source.setEventHandler { @Sendable in
                FileHandle.standardError.write(Data("stopping after the current batch; signal again to stop at once\n".utf8))
                Foundation.signal(SIGTERM, SIG_DFL)
                Foundation.signal(SIGINT, SIG_DFL)
                Task { await stop.set() }
            }
            source.resume()
            installed.append(source)
        }
        return installed
    }

    /// Keeps the signal sources alive for the life of the process.
    private static let retained = Mutex<[any DispatchSourceSignal]>([])
}
