@testable import BackfillCore
import BackfillTesting
import Testing

/// `health.replica-lag`: how lag is judged from successive readings, and that the gate fails closed.
struct ReplicaLagTests {
    static func standby(_ name: String = "s1", at position: String, behind: Int64, lag: Double? = nil) -> StandbyReplay {
        StandbyReplay(name: name, replayPosition: position, behindBytes: behind, reportedLag: lag)
    }

    @Test("a standby behind whose replay does not move lags since it last moved; one that moves lags what the server reports; caught up is 0")
    func gauge() async {
        let clock = TestClock()
        let gauge = ReplicaLagGauge(clock: clock)
        #expect(await gauge.observe([Self.standby(at: "0/10", behind: 100)]).worst?.seconds == 0)
        clock.advance(by: .seconds(3))
        #expect(await gauge.observe([Self.standby(at: "0/10", behind: 900)]).worst?.seconds == 3, "replay paused: 3 s without moving")
        clock.advance(by: .seconds(1))
        #expect(await gauge.observe([Self.standby(at: "0/20", behind: 50, lag: 0.4)]).worst?.seconds == 0.4, "moving again")
        #expect(await gauge.observe([Self.standby(at: "0/20", behind: 0, lag: 2)]).worst?.seconds == 0, "caught up")
    }

    @Test("a standby seen once and missing now is gone")
    func gone() async {
        let gauge = ReplicaLagGauge(clock: TestClock())
        _ = await gauge.observe([Self.standby("a", at: "0/1", behind: 0), Self.standby("b", at: "0/1", behind: 0)])
        #expect(await gauge.observe([Self.standby("b", at: "0/2", behind: 0)]).gone == ["a"])
    }

    @Test("the gate waits above the limit, when a standby is gone, and when the standbys cannot be read")
    func gate() async {
        let clock = TestClock()
        let failing = ReplicaLagGate(limit: 5, read: { throw BackfillError(.unavailable, "permission denied for pg_stat_replication") }, gauge: ReplicaLagGauge(clock: clock))
        let waiting = await failing.reasonToWait()
        #expect(waiting?.kind == .health && waiting?.message.contains("cannot be read (permission denied") == true, "\(String(describing: waiting))")
        let positions = Positions()
        let gate = ReplicaLagGate(limit: 5, read: { await positions.next() }, gauge: ReplicaLagGauge(clock: clock))
        #expect(await gate.reasonToWait() == nil)
        clock.advance(by: .seconds(6))
        #expect(await gate.reasonToWait()?.message.contains("standby s1 is 6 s behind the target, above health.replica-lag 5 s") == true)
    }

    /// A standby stuck at one position, behind.
    actor Positions {
        func next() -> [StandbyReplay] { [ReplicaLagTests.standby(at: "0/5", behind: 10)] }
    }
}

/// `health.target-latency`: the probe against its own fastest answer.
struct TargetLatencyGateTests {
    /// Latencies to answer with, in order; an error after them.
    actor Script {
        var latencies: [Double]
        init(_ latencies: [Double]) { self.latencies = latencies }
        func next() throws -> Double {
            guard !latencies.isEmpty else { throw BackfillError(.unavailable, "connection refused") }
            return latencies.removeFirst()
        }
    }

    @Test("waits while the probe is slower than its baseline by more than the limit, and when the probe fails")
    func gate() async {
        let script = Script([0.012, 0.010, 0.045, 0.080])
        let gate = TargetLatencyGate(limit: 0.050, probe: { try await script.next() })
        #expect(await gate.reasonToWait() == nil)
        #expect(await gate.reasonToWait() == nil, "a faster answer lowers the baseline")
        #expect(await gate.reasonToWait() == nil, "35 ms above the baseline: within 50 ms")
        let busy = await gate.reasonToWait()
        #expect(busy?.kind == .health && busy?.message.contains("80 ms, 70 ms above its baseline of 10 ms") == true, "\(String(describing: busy))")
        let failed = await gate.reasonToWait()
        #expect(failed?.message.contains("latency probe failed (connection refused)") == true, "\(String(describing: failed))")
    }
}
