@testable import BackfillCore
import Testing

/// The pure parts of the event flow: per-key queues, the concurrency limit, the receiver's circuit.
struct EventFlowPartsTests {
    @Test("keyed queues: a key's items one at a time and in order; other keys meanwhile; a retried head comes again before the key's next")
    func keyedQueues() {
        var queues = KeyedQueues<Int>()
        for (item, key) in [(1, "a"), (2, "b"), (3, "a"), (4, "c"), (5, "b")] { queues.append(item, key: .text(key)) }
        #expect(queues.count == 5)
        var taken: [Int] = []
        while let (_, item) = queues.take() { taken.append(item) }
        #expect(taken == [1, 2, 4], "one head per key, in the order the keys became ready")
        queues.done(key: .text("a"))
        queues.again(key: .text("b"), head: 20)
        #expect(queues.take()?.item == 3)
        #expect(queues.take()?.item == 20, "b's head again, updated, before b's next")
        #expect(queues.take() == nil, "c's head is still out, a's next is out")
        for key in ["a", "b", "c"] { queues.done(key: .text(key)) }
        #expect(queues.take()?.item == 5)
        queues.done(key: .text("b"))
        #expect(queues.isEmpty && !queues.hasReady)
    }

    @Test("FIFO: order kept across the compaction of its storage")
    func fifo() {
        var fifo = FIFO<Int>()
        var expected = 0
        for round in 0..<5 {
            for i in 0..<3000 { fifo.append(round * 3000 + i) }
            for _ in 0..<2500 {
                #expect(fifo.popFirst() == expected)
                expected += 1
            }
        }
        #expect(fifo.count == 2500)
    }

    @Test("FIFO: taken items are let go while others stay queued (a key with events always waiting held every event it ever had)")
    func fifoLetsGo() {
        final class Token: Sendable {}
        var fifo = FIFO<Token>()
        var taken: [Weak] = []
        for _ in 0..<40 { fifo.append(Token()) }
        for _ in 0..<20 { taken.append(Weak(fifo.popFirst())) }
        #expect(fifo.count == 20)
        #expect(taken.allSatisfy { $0.object == nil })
    }

    /// A weak reference to a taken item.
    struct Weak {
        weak var object: AnyObject?
        init(_ object: AnyObject?) { self.object = object }
    }

    @Test("concurrency limit: a lone 429 among healthy answers changes nothing; mostly overloaded halves it once per round trip; healthy answers raise it by one per limit's worth")
    func concurrencyLimit() {
        var limit = ConcurrencyLimit(maximum: 64, window: 20)
        var sent = 64
        for request in 1...30 { limit.answered(overloaded: request == 7, request: request, sent: sent) }
        #expect(limit.current == 64)
        // The receiver is overloaded: answers to the 64 requests in flight come back 429.
        for request in 31...64 { limit.answered(overloaded: true, request: request, sent: sent) }
        #expect(limit.current == 32, "one halving for the requests that were in flight together")
        sent += 32
        for request in 65...96 { limit.answered(overloaded: true, request: request, sent: sent) }
        #expect(limit.current == 16, "answers to requests sent after the decrease halve it again")
        for request in 97...(96 + 16 + 17) { limit.answered(overloaded: false, request: request, sent: request) }
        #expect(limit.current == 18, "16 healthy answers raise it to 17, 17 more to 18")
        for request in 130...148 { limit.answered(overloaded: request == 139, request: request, sent: request) }
        #expect(limit.current == 19, "a lone 429 among 18 healthy answers does not start the count again")
        var floor = ConcurrencyLimit(maximum: 2, window: 4)
        for request in 1...40 { floor.answered(overloaded: true, request: request, sent: request) }
        #expect(floor.current == 1)
    }

    @Test("receiver health: opens after the failures in a row, probes back off to the cool-down, any answer closes it, too many failed probes mean gone")
    func receiverHealth() {
        var health = ReceiverHealth(failuresToOpen: 3, firstProbe: .milliseconds(100), longestProbe: .milliseconds(350), maxFailedProbes: 4)
        #expect(health.notAnswered(probe: false) == .none)
        #expect(health.answered() == false, "an answer resets the count")
        #expect(health.notAnswered(probe: false) == .none && health.notAnswered(probe: false) == .none)
        #expect(health.notAnswered(probe: false) == .opened && health.isOpen)
        #expect(health.notAnswered(probe: false) == .none, "requests sent before it opened are not failed probes")
        #expect(health.probeDelay == .milliseconds(100))
        #expect(health.notAnswered(probe: true) == .probeFailed && health.probeDelay == .milliseconds(200))
        #expect(health.notAnswered(probe: true) == .probeFailed && health.probeDelay == .milliseconds(350))
        #expect(health.answered() == true && !health.isOpen && health.probeDelay == .milliseconds(100))
        for _ in 0..<3 { _ = health.notAnswered(probe: false) }
        for _ in 0..<3 { #expect(health.notAnswered(probe: true) == .probeFailed) }
        #expect(health.notAnswered(probe: true) == .gone)
    }
}
