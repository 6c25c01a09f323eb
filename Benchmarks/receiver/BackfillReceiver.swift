import BackfillTesting
import Foundation

/// The webhook receiver of `scripts/bench.sh events` and `scripts/chaos.sh`, as a process:
///
///     backfill-receiver PORT_FILE [--secret S] [--faults none|mixed|outage] [--order-field F --sequence-field F]
///
/// Writes its port to PORT_FILE once it listens. `--faults mixed` answers 20% of requests 500,
/// every 37th 429 with Retry-After: 1, and every 53rd (processed) after 1.5 s. `--faults outage`
/// answers 15% 500, every 20th (5%) 429 with Retry-After: 1, and is down for 3 s from the 2,000th
/// request (connections closed unanswered). On SIGTERM or
/// SIGINT it writes what it saw as JSON to PORT_FILE.tally and exits; SIGUSR1 takes it down
/// (every connection closed unanswered), SIGUSR2 brings it back up.
@main
struct BackfillReceiver {
    static func main() async throws {
        let arguments = CommandLine.arguments
        guard arguments.count >= 2 else {
            FileHandle.standardError.write(Data("usage: backfill-receiver PORT_FILE [--secret S] [--faults none|mixed|outage]\n".utf8))
            exit(2)
        }
        func option(_ name: String) -> String? {
            arguments.firstIndex(of: name).flatMap { $0 + 1 < arguments.count ? arguments[$0 + 1] : nil }
        }
        let portFile = arguments[1]
        var faults = WebhookReceiver.Faults()
        switch option("--faults") {
        case "mixed":
            faults.failureRate = 0.2
            faults.throttleEvery = 37
            faults.slowEvery = 53
            faults.slowDelay = .milliseconds(1500)
        case "outage":
            faults.failureRate = 0.15
            faults.throttleEvery = 20
            faults.outageAt = 2000
            faults.outage = .seconds(3)
        default:
            break
        }
        let receiver = try await WebhookReceiver.start(
            secret: option("--secret"), faults: faults, orderField: option("--order-field"), sequenceField: option("--sequence-field"))
        try String(receiver.port).write(toFile: portFile, atomically: true, encoding: .utf8)
        await waitForSignals(receiver: receiver, tallyFile: portFile + ".tally")
    }

    /// Serves until SIGTERM or SIGINT (then writes the tally), taking the receiver down and up on
    /// SIGUSR1 and SIGUSR2.
    static func waitForSignals(receiver: WebhookReceiver, tallyFile: String) async {
        let queue = DispatchQueue(label: "signals")
        for signal in [SIGTERM, SIGINT, SIGUSR1, SIGUSR2] { Foundation.signal(signal, SIG_IGN) }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            var sources: [any DispatchSourceSignal] = []
            for stop in [SIGTERM, SIGINT] {
                let source = DispatchSource.makeSignalSource(signal: stop, queue: queue)
                source.setEventHandler { @Sendable in
                    writeTally(receiver.tally, to: tallyFile)
                    continuation.resume()
                }
                sources.append(source)
            }
            let down = DispatchSource.makeSignalSource(signal: SIGUSR1, queue: queue)
            down.setEventHandler { @Sendable in Task { await receiver.goDown() } }
            let up = DispatchSource.makeSignalSource(signal: SIGUSR2, queue: queue)
            up.setEventHandler { @Sendable in Task { try? await receiver.comeUp() } }
            sources += [down, up]
            for source in sources { source.resume() }
            Retained.sources = sources
        }
    }

    static func writeTally(_ tally: WebhookReceiver.Tally, to path: String) {
        let summary: [String: Any] = [
            "processed": tally.processed.count, "unique": Set(tally.processed).count, "redeliveries": tally.redeliveries,
            "requests": tally.requests, "bad_signatures": tally.badSignatures,
            "in_order": tally.sequences.values.allSatisfy { $0 == $0.sorted() },
        ]
        if let data = try? JSONSerialization.data(withJSONObject: summary, options: [.sortedKeys]) {
            try? data.write(to: URL(fileURLWithPath: path))
        }
    }
}

/// Keeps the signal sources alive for the life of the process.
enum Retained {
    nonisolated(unsafe) static var sources: [any DispatchSourceSignal] = []
}
