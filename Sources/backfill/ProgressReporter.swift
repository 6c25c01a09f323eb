import BackfillCore
import Foundation
import Logging
import Synchronization

/// Shows a run's progress: a redrawn bar with rows/s and ETA on a terminal, otherwise a log line
/// every few seconds.
final class ProgressReporter: RunObserver, Sendable {
    private struct Progress {
        var total = 0
        var done = 0
        var readThisInvocation = 0
        var started = ContinuousClock.now
        var lastDraw = ContinuousClock.now
        var paused = false
    }

    private let progress = Mutex(Progress())
    private let terminal: Bool
    private let logger: Logger
    private let interval: Duration

    /// - Parameter terminal: draw a bar on standard error instead of logging.
    init(terminal: Bool, logger: Logger) {
        self.terminal = terminal
        self.logger = logger
        self.interval = terminal ? .milliseconds(100) : .seconds(5)
    }

    func runStarted(_ run: RunRecord, estimatedRows: Int, alreadyRead: Int) {
        progress.withLock {
            $0.total = max(estimatedRows, alreadyRead)
            $0.done = alreadyRead
            $0.started = .now
        }
    }

    func batchCommitted(_ report: BatchReport) {
        let line: String? = progress.withLock { state in
            state.done += report.counters.read
            state.readThisInvocation += report.counters.read
            state.total = max(state.total, state.done)
            guard state.lastDraw.duration(to: .now) >= interval else { return nil }
            state.lastDraw = .now
            return render(state)
        }
        guard let line else { return }
        if terminal {
            FileHandle.standardError.write(Data("\r\(line)\u{1B}[K".utf8))
        } else {
            logger.info("progress", metadata: ["backfill.progress": .string(line)])
        }
    }

    func statusChanged(_ status: RunStatus, reason: String?) {
        let text = status == .paused ? "paused (\(reason ?? "by request")); waiting for `backfill resume`" : "resumed"
        if terminal { FileHandle.standardError.write(Data("\r\(text)\u{1B}[K\n".utf8)) }
    }

    func runFinished(_ summary: RunSummary) {
        if terminal {
            let line = progress.withLock { render($0) }
            FileHandle.standardError.write(Data("\r\(line)\u{1B}[K\n".utf8))
        }
    }

    private func render(_ state: Progress) -> String {
        let elapsed = state.started.duration(to: .now)
        let seconds = elapsed.inSeconds
        let rate = seconds > 0 ? Double(state.readThisInvocation) / seconds : 0
        let fraction = state.total > 0 ? min(1, Double(state.done) / Double(state.total)) : 1
        let width = 30
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
        let remaining = max(0, state.total - state.done)
        let eta = rate > 0 ? Output.seconds(Double(remaining) / rate) : "?"
        return String(format: "%@ %3.0f%% ", bar, fraction * 100)
            + "\(Output.number(state.done))/\(Output.number(state.total)) rows · \(Output.number(Int(rate))) rows/s · ETA \(eta)"
    }
}
