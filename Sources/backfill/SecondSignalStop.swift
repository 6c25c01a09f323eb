import Dispatch
import Foundation
import Synchronization

/// Ends the process at the second SIGTERM or SIGINT it receives; the first is the service
/// group's graceful shutdown (`RunnerService`).
///
/// Restoring the default action after the first signal is not enough on Linux: libdispatch, which
/// delivers the group's signals, blocks them in the threads that handled one and reads them from
/// a `signalfd`, so once every thread blocks SIGTERM a second one went to the group's source —
/// which no longer listens — and was lost (`EventReplayTests.secondSignalStopsAtOnce`, killed
/// after its 60 s wait, twice in CI). This watcher is a second source on the same signals: it
/// counts every delivery and, at the second, restores the default action, unblocks the signal
/// in its own thread and raises it there.
final class SecondSignalStop: Sendable {
    /// Cancelled at `deinit` (a source's handler holds the source until then).
    private let sources: Mutex<[any DispatchSourceSignal]>

    /// - Parameter onFirst: called at the first signal too. The service group's own source is set
    ///   up once the group runs, while the run may already be working: a signal in between reaches
    ///   only this watcher, and was lost (a worker told to stop ran to the end: CI).
    init(signals: [Int32] = [SIGTERM, SIGINT], onFirst: @escaping @Sendable () -> Void = {}) {
        let seen = Seen()
        sources = Mutex(signals.map { number in
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                // Signals arriving together are handled once, `data` times.
                guard seen.add(max(1, Int(source.data))) >= 2 else { return onFirst() }
                signal(number, SIG_DFL)
                var mask = sigset_t()
                sigemptyset(&mask)
                sigaddset(&mask, number)
                pthread_sigmask(SIG_UNBLOCK, &mask, nil)
                raise(number)
            }
            source.resume()
            return source
        })
    }

    deinit {
        sources.withLock { sources in
            for source in sources { source.cancel() }
        }
    }

    private final class Seen: Sendable {
        private let count = Mutex(0)

        /// Adds `signals` and returns the total so far.
        func add(_ signals: Int) -> Int { count.withLock { $0 += signals; return $0 } }
    }
}
