import BackfillCore
import Foundation

/// Formatting shared by the commands: JSON with a stable shape, numbers and counter tables.
enum Output {
    static func json(_ value: some Encodable) throws -> String {
        String(decoding: try jsonEncoder().encode(value), as: UTF8.self)
    }

    private static func jsonEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }

    /// Prints `json(report)` with its differences encoded a thousand at a time: encoding 110,000
    /// of them at once held about 100 MB of encoder state (`scripts/bench.sh verify-postgres`,
    /// with `--limit` above the differences found).
    static func printJSON(_ report: VerifyReport) throws {
        var shell = report
        shell.differences = []
        let text = try json(shell)
        let empty = "\n  \"differences\" : [\n\n  ]"
        guard !report.differences.isEmpty, let range = text.range(of: empty) else {
            print(text)
            return
        }
        let encoder = jsonEncoder()
        write(text[..<range.lowerBound] + "\n  \"differences\" : [\n")
        for start in stride(from: 0, to: report.differences.count, by: 1_000) {
            let chunk = Array(report.differences[start..<min(start + 1_000, report.differences.count)])
            // `[\n  {…},\n  {…}\n]` without its brackets, two spaces deeper.
            let array = Array(try encoder.encode(chunk))
            var lines: [UInt8] = start == 0 ? [] : Array(",\n".utf8)
            lines.reserveCapacity(array.count + array.count / 4)
            var lineStart = true
            for byte in array.dropFirst(2).dropLast(2) {
                if lineStart && byte != UInt8(ascii: "\n") { lines.append(contentsOf: [0x20, 0x20]) }
                lines.append(byte)
                lineStart = byte == UInt8(ascii: "\n")
            }
            write(lines)
        }
        write("\n  ]" + text[range.upperBound...] + "\n")
    }

    private static func write(_ text: String) { write(Array(text.utf8)) }

    /// Straight to standard output (nothing else is printed around a JSON report, so nothing
    /// buffered by `print` can be overtaken).
    private static func write(_ bytes: [UInt8]) { FileHandle.standardOutput.write(Data(bytes)) }

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
            let hashes = counters.sourceHashBytes > 0 ? ", and \(bytes(counters.sourceHashBytes)) of hashes" : ""
            lines.append(
                "\(indent)shipped from the source: \(number(counters.shippedRows)) rows (\(share) of those read), \(bytes(counters.shippedBytes))\(hashes)")
            if counters.targetHashBytes > 0 {
                lines.append("\(indent)shipped from the target: \(bytes(counters.targetHashBytes)) of hashes")
            }
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
        if let part = range.part { return "part \(part.path)" }
        return "[\(range.lower.map { key($0) } ?? "-∞"), \(range.upper.map { key($0) } ?? "+∞"))"
    }
}
