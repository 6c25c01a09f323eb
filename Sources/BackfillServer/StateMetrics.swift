import BackfillCore
import Foundation
import Metrics
import Prometheus
import Synchronization

/// `/metrics`: the runs in the state store as Prometheus gauges, recorded through swift-metrics
/// into a swift-prometheus registry at every scrape — so `backfill serve` shows every process's
/// progress, whichever process wrote it.
///
/// Per run (labels `job` and `run`): `backfill_rows{outcome}` (read, inserted, updated, unchanged,
/// skipped, quarantined), `backfill_batches`, `backfill_retries`, `backfill_errors{type}`,
/// `backfill_chunks_done`, `backfill_chunks_total`, `backfill_batch_size`, `backfill_paused`,
/// `backfill_status{status}` (1 for the run's status), `backfill_rows_per_second` (over working
/// time), `backfill_eta_seconds`, `backfill_waited_seconds`, and per budget or health signal
/// `backfill_binding{signal}` (1 while it binds) and `backfill_held_seconds{signal}`.
final class StateMetrics: Sendable {
    private let state: any StateStore
    private let registry: PrometheusCollectorRegistry
    private let factory: PrometheusMetricsFactory
    /// Runs shown: the newest ones.
    private let limit = 50

    init(state: any StateStore, registry: PrometheusCollectorRegistry) {
        self.state = state
        self.registry = registry
        self.factory = PrometheusMetricsFactory(registry: registry)
    }

    func render() async throws -> [UInt8] {
        for run in try await state.runs(limit: limit) {
            let labels = [("job", run.job), ("run", String(run.id))]
            let counters = run.counters
            for (outcome, value) in [
                ("read", counters.read), ("inserted", counters.inserted), ("updated", counters.updated),
                ("unchanged", counters.unchanged), ("skipped", counters.skipped), ("quarantined", counters.quarantined),
            ] {
                gauge("backfill_rows", labels + [("outcome", outcome)], Double(value))
            }
            gauge("backfill_batches", labels, Double(counters.batches))
            gauge("backfill_retries", labels, Double(counters.retries))
            for (type, count) in try await state.quarantineCounts(runID: run.id) {
                gauge("backfill_errors", labels + [("type", type)], Double(count))
            }
            gauge("backfill_chunks_done", labels, Double(run.chunksDone))
            gauge("backfill_chunks_total", labels, Double(run.chunksTotal))
            gauge("backfill_batch_size", labels, Double(run.batchSize ?? 0))
            gauge("backfill_paused", labels, run.status == .paused ? 1 : 0)
            for status in RunStatus.allCases {
                gauge("backfill_status", labels + [("status", status.rawValue)], run.status == status ? 1 : 0)
            }
            let rate = run.rowsPerWorkingSecond
            gauge("backfill_rows_per_second", labels, rate)
            let left = max(0, run.estimatedRows - counters.read)
            gauge("backfill_eta_seconds", labels, run.status.isResumable && rate > 0 ? Double(left) / rate : 0)
            gauge("backfill_waited_seconds", labels, run.waits.total)
            // Which budget or health signal binds now (1) and how long each held the run's workers.
            for signal in ControlSignal.allCases {
                let signalLabels = labels + [("signal", signal.metricLabel)]
                gauge("backfill_binding", signalLabels, run.binding?.signal == signal ? 1 : 0)
                gauge("backfill_held_seconds", signalLabels, run.waits.held[signal.rawValue] ?? 0)
            }
        }
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return buffer
    }

    private func gauge(_ name: String, _ labels: [(String, String)], _ value: Double) {
        Gauge(label: name, dimensions: labels, factory: factory).record(value)
    }
}
