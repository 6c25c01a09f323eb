import BackfillCore
import Testing

@Suite struct CircuitBreakerTests {
    let start = ContinuousClock.now

    @Test func opensAfterConsecutiveFailuresAndProbesAfterTheCoolDown() {
        var breaker = CircuitBreakerState(threshold: 3, coolDown: .seconds(5))
        #expect(breaker.beforeCall(now: start) == .proceed)
        let first = breaker.failed(now: start)
        let second = breaker.failed(now: start)
        let third = breaker.failed(now: start)
        #expect(!first && !second)
        #expect(third, "the third failure in a row opens it")
        let during = breaker.beforeCall(now: start + .seconds(1))
        #expect(during == .wait(until: start + .seconds(5)))
        let after = breaker.beforeCall(now: start + .seconds(5))
        #expect(after == .proceed, "half-open: one probe")
        #expect(breaker.phase == .halfOpen)
        let probeFailed = breaker.failed(now: start + .seconds(5))
        #expect(probeFailed, "a failed probe opens it again")
        let again = breaker.beforeCall(now: start + .seconds(6))
        #expect(again == .wait(until: start + .seconds(10)))
        _ = breaker.beforeCall(now: start + .seconds(10))
        breaker.succeeded()
        #expect(breaker.phase == .closed(failures: 0))
    }

    @Test func aSuccessResetsTheCount() {
        var breaker = CircuitBreakerState(threshold: 2, coolDown: .seconds(1))
        let first = breaker.failed(now: start)
        breaker.succeeded()
        let second = breaker.failed(now: start)
        let third = breaker.failed(now: start)
        #expect(!first)
        #expect(!second, "not two in a row")
        #expect(third)
    }
}
