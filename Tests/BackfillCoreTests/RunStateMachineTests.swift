import BackfillCore
import Testing

/// Every status change a run can make, decided without I/O.
@Suite struct RunStateMachineTests {
    /// The legal moves, spelled out: terminal statuses never change, a paused run cannot complete
    /// without running again.
    @Test func theTableOfLegalMoves() {
        let legal: [RunStatus: Set<RunStatus>] = [
            .planned: Set(RunStatus.allCases), .running: Set(RunStatus.allCases),
            .paused: [.planned, .running, .paused, .cancelled, .failed],
            .cancelled: [], .failed: [], .completed: [],
        ]
        for from in RunStatus.allCases {
            for to in RunStatus.allCases {
                #expect(RunStateMachine.isLegal(from: from, to: to) == legal[from]!.contains(to), "\(from) → \(to)")
            }
        }
    }

    /// Every event in every status: each status change it asks for is a legal move from every
    /// status it may replace, and a finished run is never changed.
    @Test func everyEventInEveryStatusStaysLegal() {
        let reason = WaitReason(.window, "outside the window")
        let events: [RunStateMachine.Event] = [
            .statusObserved(.running), .statusObserved(.paused), .statusObserved(.cancelled), .gateClosed(reason),
            .gateClosed(WaitReason(.throttled, "throttled")), .gateOpened, .batchCommitted(chunkDone: false),
            .batchCommitted(chunkDone: true), .errorRateExceeded(reason: "too many", rate: 0.5, waitForResume: false),
            .errorRateExceeded(reason: "too many", rate: 0.5, waitForResume: true), .leaseLost, .budgetExhausted(rows: 10),
            .signal, .workersEnded(stops: [], allChunksDone: true, limit: nil),
            .workersEnded(stops: [], allChunksDone: false, limit: 10), .workersEnded(stops: [.signal], allChunksDone: false, limit: nil),
            .workersEnded(stops: [.errorGuard(rate: 0.5)], allChunksDone: false, limit: nil), .failed(message: "boom"),
            .requested(.pause, ownerAlive: true), .requested(.resume, ownerAlive: true), .requested(.resume, ownerAlive: false),
            .requested(.cancel, ownerAlive: true), .superseded,
        ]
        for status in RunStatus.allCases {
            for event in events {
                var machine = RunStateMachine(status: status)
                for case .persist(let change) in machine.handle(event) {
                    #expect(status.isResumable, "\(event) changed a \(status) run")
                    for from in change.from {
                        #expect(RunStateMachine.isLegal(from: from, to: change.to), "\(event): \(from) → \(change.to)")
                    }
                    #expect(!change.from.isEmpty)
                }
            }
        }
    }

    @Test func finishedRunsIgnoreRequests() {
        for status in [RunStatus.cancelled, .failed, .completed] {
            for request in RunStateMachine.Request.allCases {
                var machine = RunStateMachine(status: status)
                #expect(machine.handle(.requested(request, ownerAlive: true)) == [.ignore])
                #expect(machine.status == status)
            }
            var machine = RunStateMachine(status: status)
            #expect(machine.handle(.failed(message: "late")) == [.ignore])
            #expect(machine.handle(.superseded) == [.ignore])
        }
    }

    @Test func resumeGoesToRunningOnlyWithALiveOwner() {
        var alive = RunStateMachine(status: .paused)
        #expect(alive.handle(.requested(.resume, ownerAlive: true)).first == .persist(StatusChange(
            from: [.planned, .running, .paused], to: .running, reason: nil, event: "resumed")))
        var orphan = RunStateMachine(status: .paused)
        _ = orphan.handle(.requested(.resume, ownerAlive: false))
        #expect(orphan.status == .planned)
    }

    /// A pause is announced once, waited on, and its end announced once.
    @Test func pauseIsAnnouncedOnceAndItsEndToo() {
        var machine = RunStateMachine(status: .running)
        #expect(machine.handle(.statusObserved(.running)) == [.proceed])
        #expect(machine.handle(.statusObserved(.paused)) == [.announceWaiting(.paused), .wait(.paused)])
        #expect(machine.handle(.statusObserved(.paused)) == [.wait(.paused)])
        #expect(machine.handle(.statusObserved(.running)) == [.announceGoingOn(after: .paused), .proceed])
        #expect(machine.handle(.statusObserved(.running)) == [.proceed])
    }

    /// A throttle backs the batch size off once per new reason; other gates do not.
    @Test func gatesAnnounceEachNewReasonAndOnlyTheThrottleBacksOff() {
        var machine = RunStateMachine(status: .running)
        let throttled = WaitReason(.throttled, "throttled: 9 > 5")
        #expect(machine.handle(.gateClosed(throttled)) == [.announceWaiting(throttled), .backOff, .wait(throttled)])
        #expect(machine.handle(.gateClosed(throttled)) == [.wait(throttled)])
        let window = WaitReason(.window, "outside the window")
        #expect(machine.handle(.gateClosed(window)) == [.announceWaiting(window), .wait(window)])
        #expect(machine.handle(.gateOpened) == [.announceGoingOn(after: window), .proceed])
        #expect(machine.handle(.gateOpened) == [.proceed])
    }

    @Test func aCancelledOrFinishedRunStopsTheWorker() {
        for status in [RunStatus.cancelled, .failed, .completed] {
            var machine = RunStateMachine(status: .running)
            #expect(machine.handle(.statusObserved(status)) == [.releaseChunk, .stop(.ended(status))])
            #expect(machine.stop == .ended(status))
        }
    }

    @Test func theErrorGuardPausesFromRunningOnly() {
        var machine = RunStateMachine(status: .running)
        let actions = machine.handle(.errorRateExceeded(reason: "12% quarantined", rate: 0.12, waitForResume: false))
        #expect(actions == [
            .persist(StatusChange(from: [.running, .planned], to: .paused, reason: "12% quarantined", event: "paused")),
            .releaseChunk, .stop(.errorGuard(rate: 0.12)),
        ])
        var waiting = RunStateMachine(status: .running)
        #expect(waiting.handle(.errorRateExceeded(reason: "r", rate: 0.2, waitForResume: true)).last == .proceed)
    }

    @Test func theBudgetAndASignalHandTheChunkBack() {
        var limited = RunStateMachine(status: .running)
        #expect(limited.handle(.budgetExhausted(rows: 500)) == [.releaseChunk, .stop(.limitReached(rows: 500))])
        var signalled = RunStateMachine(status: .running)
        #expect(signalled.handle(.signal) == [.releaseChunk, .stop(.signal)])
        var lost = RunStateMachine(status: .running)
        #expect(lost.handle(.leaseLost) == [.leaveChunk])
    }

    /// The end of an execution: completed, stopped at --limit (planned, with a typed reason),
    /// interrupted, or left as someone else set it.
    @Test func workersEndingSettlesTheStatus() {
        var done = RunStateMachine(status: .running)
        #expect(done.handle(.workersEnded(stops: [], allChunksDone: true, limit: nil)) == [
            .persist(StatusChange(from: [.running, .planned], to: .completed, reason: nil, event: "completed")), .stop(.completed),
        ])
        var limited = RunStateMachine(status: .running)
        let actions = limited.handle(.workersEnded(stops: [.limitReached(rows: 100)], allChunksDone: false, limit: 100))
        #expect(actions.last == .stop(.limitReached(rows: 100)))
        #expect(limited.status == .planned)
        var paused = RunStateMachine(status: .running)
        _ = paused.handle(.statusObserved(.paused))
        #expect(paused.handle(.workersEnded(stops: [], allChunksDone: true, limit: nil)) == [.stop(.ended(.paused))])
        var guarded = RunStateMachine(status: .paused)
        #expect(guarded.handle(.workersEnded(stops: [.errorGuard(rate: 0.3)], allChunksDone: false, limit: nil)) == [
            .stop(.errorGuard(rate: 0.3))
        ])
        var signalled = RunStateMachine(status: .running)
        let interrupted = signalled.handle(.workersEnded(stops: [.signal], allChunksDone: false, limit: nil))
        #expect(interrupted.last == .stop(.signal))
        #expect(signalled.status == .running)
    }
}
