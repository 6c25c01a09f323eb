import BackfillCore

/// How a webhook answered, over one process's deliveries: answers by HTTP status (and requests
/// that got none), and how many retries each settled event needed. `backfill run` records it in
/// the run's events, where `report` shows it.
public actor DeliveryStats {
    /// Answers by status; 0 counts requests without an answer (timeouts, refused connections).
    private var answers: [Int: Int] = [:]
    /// Settled events by the retries they needed.
    private var retries: [Int: Int] = [:]

    public init() {}

    func answered(_ status: Int) { answers[status, default: 0] += 1 }

    func settled(afterRetries count: Int) { retries[count, default: 0] += 1 }

    /// `nil` before any request; else one line: `answers: 200 ×1,000 · 429 ×37 · no answer ×3 ·
    /// retries per event: 0 ×960 · 1 ×30 · 2 ×8 · 3+ ×2`.
    public func summary() -> String? {
        guard !answers.isEmpty else { return nil }
        let statuses = answers.sorted { $0.key < $1.key }.map { status, count in
            (status == 0 ? "no answer" : String(status)) + " ×" + Self.number(count)
        }
        var buckets: [(String, Int)] = (0..<3).compactMap { n in retries[n].map { (String(n), $0) } }
        let more = retries.filter { $0.key >= 3 }.values.reduce(0, +)
        if more > 0 { buckets.append(("3+", more)) }
        let histogram = buckets.map { "\($0.0) ×" + Self.number($0.1) }
        return "answers: " + statuses.joined(separator: " · ") + "; retries per event: " + histogram.joined(separator: " · ")
    }

    private static func number(_ value: Int) -> String {
        let digits = String(value)
        var out = ""
        for (index, character) in digits.enumerated() {
            if index > 0, (digits.count - index) % 3 == 0 { out.append(",") }
            out.append(character)
        }
        return out
    }
}
