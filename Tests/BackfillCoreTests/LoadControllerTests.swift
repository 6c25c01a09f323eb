@testable import BackfillCore
import BackfillTesting
import Testing

/// The run's one controller: AIMD on the load (seconds of batch work per second) from the health
/// signals, capped at the gentle share while others work on the target.
struct LoadControllerTests {
    @Test("a signal over its limit halves the load the run used, at most once a second; healthy seconds add it back until unlimited")
    func aimd() async {
        let clock = TestClock()
        let control = LoadController(gentleShare: 0.1, clock: clock)
        #expect(await control.load == nil, "unlimited at first")
        // Two workers each busy half of the time over two seconds: the run used 1 s of work per second.
        for _ in 0..<4 {
            await control.spend(0.5)
            clock.advance(by: .milliseconds(500))
        }
        await control.spend(0)
        await control.decrease(because: .replicaLag, capacity: 2)
        #expect(await control.load == 0.5, "half of what it used, not of its two workers' capacity")
        #expect(await control.limitedBy == .replicaLag)
        await control.decrease(because: .replicaLag, capacity: 2)
        #expect(await control.load == 0.5, "a second decrease within a second is not counted: the first has not shown yet")
        clock.advance(by: .seconds(1))
        await control.decrease(because: .targetLatency, capacity: 2)
        #expect(await control.load == 0.25)
        #expect(await control.limitedBy == .targetLatency)
        clock.advance(by: .seconds(2))
        await control.healthy(capacity: 2)
        #expect(abs((await control.load ?? 0) - 0.65) < 1e-9, "+0.2 (a tenth of 2 workers) per healthy second")
        clock.advance(by: .seconds(7))
        await control.healthy(capacity: 2)
        #expect(await control.load == nil, "back to unlimited once it reaches the workers' capacity")
        #expect(await control.limitedBy == nil)
    }

    @Test("a wait begun while gentle shortens once live traffic leaves: the load grows back while the worker waits")
    func regrowsWhileWaiting() async {
        let clock = TestClock()
        let control = LoadController(gentleShare: 0.01, clock: clock)
        await control.liveTraffic(true)
        // A 2-s batch at a 1% share (a second's share of it in hand): 199 s to wait it off.
        await control.spend(2)
        #expect(await control.wait() == .seconds(199))
        #expect(await control.regrow(capacity: 2) == false, "no growth while others work on the target")
        await control.liveTraffic(false)
        clock.advance(by: .seconds(5))
        #expect(await control.regrow(capacity: 2), "+0.2 of load per second since the traffic left")
        let left = await control.wait()
        #expect(left < .seconds(3), "the debt left is waited off at the grown load: \(left)")
        // A health signal that lowers the load is the waiter's to lift (after its gates), not the wait's.
        await control.decrease(because: .replicaLag, capacity: 2)
        clock.advance(by: .seconds(1))
        #expect(await control.regrow(capacity: 2) == false)
    }

    @Test("the load is kept by waiting: a batch longer than the load allows makes the next wait")
    func waits() async {
        let clock = TestClock()
        let control = LoadController(gentleShare: 0.25, clock: clock)
        #expect(await control.liveTraffic(true), "the cap is new")
        #expect(await control.liveTraffic(true) == false, "and reported once")
        #expect(await control.isGentle)
        #expect(await control.load == 0.25)
        #expect(await control.limitedBy == .liveTraffic)
        await control.spend(0.5)
        // 0.25 s in the bucket, 0.5 s spent: 0.25 s of debt, paid off at 0.25 s per second.
        #expect(await control.wait() == .seconds(1))
        clock.advance(by: .seconds(1))
        #expect(await control.wait() == .zero)
        #expect(await control.liveTraffic(false))
        #expect(await control.isGentle == false)
        clock.advance(by: .seconds(10))
        await control.healthy(capacity: 1)
        #expect(await control.load == nil, "gone: growth goes on to unlimited")
    }

    @Test("a decrease below the gentle share holds while others work; growth stops at the share")
    func healthUnderLiveTraffic() async {
        let clock = TestClock()
        let control = LoadController(gentleShare: 0.4, clock: clock)
        await control.liveTraffic(true)
        clock.advance(by: .seconds(2))
        await control.spend(0.4)
        await control.decrease(because: .throttle, capacity: 4)
        #expect(await control.load == 0.1, "half of the 0.2 s per second it used")
        clock.advance(by: .seconds(5))
        await control.healthy(capacity: 4)
        #expect(await control.load == 0.4, "capped at the share while live traffic is there")
        #expect(await control.limitedBy == .liveTraffic)
    }

    @Test("a long closing halves once, whichever workers see it; its waiting neither grows the load back nor counts as a time the run used little")
    func longClosing() async {
        let clock = TestClock()
        let control = LoadController(gentleShare: 0.1, clock: clock)
        for _ in 0..<4 {
            await control.spend(0.5)
            clock.advance(by: .milliseconds(500))
        }
        await control.spend(0)
        await control.decrease(because: .replicaLag, capacity: 2)
        #expect(await control.load == 0.5)
        // Two workers poll the closed gate for 30 s.
        for _ in 0..<30 {
            clock.advance(by: .seconds(1))
            await control.decrease(because: .replicaLag, capacity: 2)
            await control.decrease(because: .replicaLag, capacity: 2)
        }
        #expect(await control.load == 0.5, "halved once for the whole closing")
        await control.healthy(capacity: 2)
        #expect(await control.load == 0.5, "the 30 s waited grew nothing back")
        clock.advance(by: .seconds(1))
        await control.spend(0.5)
        await control.decrease(because: .replicaLag, capacity: 2)
        #expect(await control.load == 0.25, "a new closing halves from what the run used before the wait (1 s per second), not 1/30 of it")
    }

    @Test("the smallest load a decrease leaves is kept")
    func floor() async {
        let clock = TestClock()
        let control = LoadController(gentleShare: 0.1, clock: clock)
        // Ten closings, each cleared at once.
        for _ in 0..<10 {
            await control.decrease(because: .replicaLag, capacity: 1)
            await control.healthy(capacity: 1)
            clock.advance(by: .seconds(1))
        }
        #expect(await control.load == LoadController.minimumLoad)
    }
}

/// Workers take turns while the run is gentle.
@Suite(.timeLimit(.minutes(1)))
struct BatchTurnsTests {
    @Test("one turn at a time, first come first served; a cancelled waiter leaves the line")
    func turns() async throws {
        let turns = BatchTurns()
        try await turns.take()
        let second = Task { try await turns.take() }
        await Self.waitForLine(turns, 1)
        let third = Task { try await turns.take() }
        await Self.waitForLine(turns, 2)
        await turns.give()
        try await second.value
        #expect(await turns.waiting == 1, "the third still waits: the second holds the turn")
        third.cancel()
        await #expect(throws: CancellationError.self) { try await third.value }
        await turns.give()
        try await turns.take()
    }

    /// Waits (yielding, not sleeping) until `count` workers wait in line.
    private static func waitForLine(_ turns: BatchTurns, _ count: Int) async {
        while await turns.waiting < count { await Task.yield() }
    }
}

/// `health.live-traffic`: what the sensor reports, by mode.
struct LiveTrafficSensorTests {
    @Test("auto asks at most once a second and lets live traffic linger; gentle and full-speed never ask")
    func modes() async {
        let clock = TestClock()
        let asked = Counter()
        let sensor = LiveTrafficSensor(mode: .auto, read: { await asked.next() > 1 ? 0 : 2 }, clock: clock)
        #expect(await sensor.sense() == (true, nil))
        #expect(await sensor.sense() == (true, nil), "within the second: the last reading")
        clock.advance(by: .seconds(1))
        #expect(await sensor.sense() == (true, nil), "nobody else now, but seen a second ago: it lingers")
        clock.advance(by: LiveTrafficSensor.linger)
        #expect(await sensor.sense() == (false, nil), "nobody else for the linger time")
        #expect(await asked.value == 3)
        let never = LiveTrafficSensor(mode: .gentle, read: { Issue.record("asked"); return 0 }, clock: clock)
        #expect(await never.sense() == (true, nil))
        let full = LiveTrafficSensor(mode: .fullSpeed, read: { Issue.record("asked"); return 5 }, clock: clock)
        #expect(await full.sense() == (false, nil))
        let blind = LiveTrafficSensor(mode: .auto, read: nil, clock: clock)
        #expect(await blind.sense() == (false, nil), "a target that cannot say: full speed")
    }

    @Test("a reading that fails counts as live traffic (it fails closed), reported once")
    func failsClosed() async {
        let clock = TestClock()
        let sensor = LiveTrafficSensor(
            mode: .auto, read: { throw BackfillError(.unavailable, kind: .transient, "permission denied for pg_stat_activity") }, clock: clock)
        let first = await sensor.sense()
        #expect(first.present)
        #expect(first.newProblem?.contains("permission denied") == true)
        clock.advance(by: .seconds(1))
        #expect(await sensor.sense() == (true, nil), "still gentle, said once")
        clock.advance(by: LiveTrafficSensor.linger * 2)
        #expect(await sensor.sense() == (true, nil), "however long it cannot see")
    }

    actor Counter {
        var value = 0
        func next() -> Int {
            value += 1
            return value
        }
    }
}
