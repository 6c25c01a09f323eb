/// `health.target-latency` as a gate: a trivial query on the target is timed before every batch;
/// while it takes longer than the fastest answer of the run so far (its unloaded baseline) plus
/// the limit, the target is busy with someone else's work and the run waits. A probe that fails
/// makes it wait too (it fails closed).
struct TargetLatencyGate: Sendable {
    let limit: Double
    let probe: @Sendable () async throws -> Double
    let baseline = Baseline()

    /// The fastest probe so far.
    actor Baseline {
        private(set) var seconds: Double?

        func observe(_ latency: Double) -> Double {
            let fastest = min(seconds ?? latency, latency)
            seconds = fastest
            return fastest
        }
    }

    func reasonToWait() async -> WaitReason? {
        let latency: Double
        do {
            latency = try await probe()
        } catch {
            let cause = BackfillError.message(of: error)
            return WaitReason(.health, "waiting: the target's latency probe failed (\(cause)); health.target-latency waits until it answers", signal: .targetLatency)
        }
        let fastest = await baseline.observe(latency)
        guard latency - fastest > limit else { return nil }
        return WaitReason(
            .health,
            "waiting: the target answers a trivial query in \(Self.milliseconds(latency)), \(Self.milliseconds(latency - fastest)) above its "
                + "baseline of \(Self.milliseconds(fastest)) (health.target-latency \(Self.milliseconds(limit)))", signal: .targetLatency)
    }

    static func milliseconds(_ seconds: Double) -> String { "\(Int((seconds * 1000).rounded())) ms" }
}
