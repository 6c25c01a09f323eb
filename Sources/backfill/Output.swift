import BackfillCore
import Foundation

/// Formatting shared by the commands: JSON with a stable shape, numbers and counter tables.
enum Output {
    static func json(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static func number(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var result = ""
        for (index, character) in digits.reversed().enumerated() {
            if index > 0, index % 3 == 0 { result.append(",") }
            result.append(character)
        }
        return (value < 0 ? "-" : "") + String(result.reversed())
    }

    static func seconds(_ value: Double) -> String {
        if value < 60 { return String(format: "%.2f s", value) }
        return String(format: "%dm%02ds", Int(value) / 60, Int(value) % 60)
    }

    static func counters(_ counters: Counters, indent: String = "  ") -> String {
        let rows: [(String, Int)] = [
            ("read", counters.read), ("inserted", counters.inserted), ("updated", counters.updated),
            ("unchanged", counters.unchanged), ("skipped", counters.skipped), ("quarantined", counters.quarantined),
        ]
        let width = rows.map { number($0.1).count }.max() ?? 1
        var lines = rows.map { name, value in
            indent + name.padding(toLength: 12, withPad: " ", startingAt: 0)
                + String(repeating: " ", count: width - number(value).count) + number(value)
        }
        let check = counters.isBalanced ? "holds" : "DOES NOT HOLD"
        lines.append("\(indent)read = inserted + updated + unchanged + skipped + quarantined: \(check)")
        if counters.read > 0 {
            // What crossed the wire: rows settled inside the engines (equal chunks, equal rows by hash) did not.
            let share = String(format: "%.1f%%", Double(counters.shippedRows) / Double(counters.read) * 100)
            lines.append("\(indent)shipped from the source: \(number(counters.shippedRows)) rows (\(share) of those read), \(bytes(counters.shippedBytes))")
        }
        return lines.joined(separator: "\n")
    }

    /// `1.2 MB`, `340 kB`, `12 B`.
    static func bytes(_ count: Int) -> String {
        switch count {
        case 1_000_000...: String(format: "%.1f MB", Double(count) / 1_000_000)
        case 1_000...: String(format: "%.0f kB", Double(count) / 1_000)
        default: "\(count) B"
        }
    }

    static func key(_ key: [Value]?) -> String {
        guard let key else { return "-" }
        return key.count == 1 ? key[0].description : "(" + key.map(\.description).joined(separator: ", ") + ")"
    }

    static func range(_ range: KeyRange) -> String {
        "[\(range.lower.map { key($0) } ?? "-∞"), \(range.upper.map { key($0) } ?? "+∞"))"
    }
}
