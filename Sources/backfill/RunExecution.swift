import ArgumentParser
import BackfillCore
import BackfillHTTP
import Foundation
import Logging
import ServiceLifecycle

/// What `run` and `worker` share once they hold a run: the runner over the prepared job as a
/// service in a `ServiceGroup` (with the dashboard beside it under `--serve`), SIGTERM and SIGINT
/// handled by the group, then — with `verify` — the proof, the summary printed and the exit code
/// thrown.
struct RunExecution {
    let prepared: PreparedJob
    let state: OpenedState
    let configuration: RunnerConfiguration
    let common: CommonOptions
    /// Where the dashboard listens; `nil` serves none.
    let server: ServerOptions?
    /// End a completed run with a verification (and a repair of what differs): `run --verify`.
    var verify = false

    /// Executes `run` to its end or a graceful stop.
    /// - Throws: the runner's error, or `ExitCode` when the run did not succeed (`ExitStatus`).
    func execute(_ run: RunRecord) async throws {
        let logger = LogBootstrap.logger()
        let stop = StopSignal()
        var configuration = self.configuration
        configuration.stop = stop
        let observer = ProgressReporter(terminal: !common.json && isatty(2) == 1, logger: logger)
        let runner = JobWiring.runner(prepared, state: state, configuration: configuration, logger: logger, observer: observer)
        let service = RunnerService(runner: runner, run: run, stop: stop)
        var services = [ServiceGroupConfiguration.ServiceConfiguration(service: service, successTerminationBehavior: .gracefullyShutdownGroup)]
        if let server {
            // The server only ends early when it cannot listen: that error cancels the run too.
            services.append(.init(service: server.dashboard(state.store, logLevel: common.logLevel), failureTerminationBehavior: .cancelGroup))
        }
        var group = ServiceGroupConfiguration(services: services, logger: logger)
        group.gracefulShutdownSignals = [.sigterm, .sigint]
        try await ServiceGroup(configuration: group).run()
        let deliveries = try await recordDeliveries(of: run)
        let summary = try service.summary()
        let code = ExitStatus.code(for: summary, spec: prepared.spec)
        guard verify, code == 0, summary.status == .completed, !summary.dryRun, !Self.stoppedAtLimit(summary) else {
            print(common.json ? try Output.json(summary) : RunSummaryText.render(summary) + (deliveries.map { "\n  deliveries  " + $0 } ?? ""))
            if code != 0 { throw ExitCode(code) }
            return
        }
        let proof = try await AfterRunVerification(prepared: prepared, state: state.store).run()
        if common.json {
            print(try Output.json(RunWithProof(run: summary, verification: proof.report, repair: proof.repair?.summary)))
        } else {
            print(RunSummaryText.render(summary))
            if let repair = proof.repair { print(VerifyText.render(repair.before) + "\n" + VerifyText.render(repair)) }
            print(VerifyText.render(proof.report))
        }
        if let repair = proof.repair, repair.summary.status != .completed { throw ExitCode(ExitStatus.code(for: repair.summary.status)) }
        if !proof.report.equal { throw ExitCode(ExitStatus.differences) }
    }

    /// A webhook's answers by status and retries per event in this invocation, recorded in the run's
    /// events (`report` shows them); `nil` when nothing was sent.
    private func recordDeliveries(of run: RunRecord) async throws -> String? {
        guard case .webhook(let webhook) = prepared.target, !configuration.dryRun, let line = DeliveryText.line(await webhook.stats.total) else {
            return nil
        }
        try await state.store.recordEvent(runID: run.id, kind: "deliveries", message: line)
        return line
    }

    private static func stoppedAtLimit(_ summary: RunSummary) -> Bool {
        if case .limitReached? = summary.stop { return true }
        return false
    }
}

/// `run --verify --json`: the run, its verification and the repair between them.
struct RunWithProof: Encodable {
    var run: RunSummary
    var verification: VerifyReport
    var repair: RunSummary?
}
