import Foundation
import Yams

/// Walks a composed YAML node tree, collecting every problem with its line instead of stopping
/// at the first (Yams' Codable decoding ignores unknown keys and reports no lines).
struct SpecNodeReader {
    let file: String
    let environment: [String: String]
    private(set) var problems: [SpecProblem] = []
    /// Line of each field path that was read, for later semantic checks.
    private(set) var lines: [String: Int] = [:]

    init(file: String, environment: [String: String]) {
        self.file = file
        self.environment = environment
    }

    mutating func problem(_ field: String, _ node: Node?, _ message: String) {
        problems.append(
            SpecProblem(file: file, line: node?.mark?.line, column: node?.mark?.column, field: field, message: message))
    }

    mutating func note(_ field: String, _ node: Node) {
        if let line = node.mark?.line { lines[field] = line }
    }

    /// The entries of a mapping node keyed by name; reports unknown and duplicate keys.
    /// The mapping at `node`; keys outside `allowed` are problems (`nil`: any key, as for headers).
    mutating func mapping(_ node: Node, field: String, allowed: [String]?) -> [String: Node]? {
        guard case .mapping(let mapping) = node else {
            problem(field, node, allowed.map { "expected a mapping with keys \($0.joined(separator: ", "))" } ?? "expected a mapping")
            return nil
        }
        note(field, node)
        var result: [String: Node] = [:]
        for (keyNode, value) in mapping {
            let name = keyNode.string ?? ""
            let path = field.isEmpty ? name : "\(field).\(name)"
            if let allowed, !allowed.contains(name) {
                let hint = Self.closest(to: name, in: allowed).map { " (did you mean '\($0)'?)" } ?? ""
                problem(path, keyNode, "unknown key '\(name)'\(hint); allowed: \(allowed.joined(separator: ", "))")
            } else if result[name] != nil {
                problem(path, keyNode, "key '\(name)' appears twice")
            } else {
                result[name] = value
                note(path, value)
            }
        }
        return result
    }

    /// A scalar string with `${ENV}` references replaced.
    mutating func string(_ node: Node?, field: String) -> String? {
        guard let node else { return nil }
        guard case .scalar(let scalar) = node else {
            problem(field, node, "expected a text value")
            return nil
        }
        return interpolate(scalar.string, field: field, node: node)
    }

    mutating func interpolate(_ text: String, field: String, node: Node) -> String? {
        var result = ""
        var rest = Substring(text)
        while let open = rest.range(of: "${") {
            result += rest[..<open.lowerBound]
            guard let close = rest[open.upperBound...].firstIndex(of: "}") else {
                problem(field, node, "unterminated '${' in value")
                return nil
            }
            let name = String(rest[open.upperBound..<close])
            guard let value = environment[name] else {
                problem(field, node, "environment variable '\(name)' is not set")
                return nil
            }
            result += value
            rest = rest[rest.index(after: close)...]
        }
        return result + rest
    }

    mutating func integer(_ node: Node?, field: String, range: ClosedRange<Int>) -> Int? {
        guard let node else { return nil }
        guard case .scalar(let scalar) = node, let value = Int(scalar.string) else {
            problem(field, node, "expected a whole number")
            return nil
        }
        guard range.contains(value) else {
            problem(field, node, "must be between \(range.lowerBound) and \(range.upperBound), got \(value)")
            return nil
        }
        return value
    }

    /// `true` or `false` (YAML 1.2's spellings only: `yes`/`no` are refused as ambiguous).
    mutating func boolean(_ node: Node?, field: String) -> Bool? {
        guard let node else { return nil }
        guard case .scalar(let scalar) = node, ["true", "false"].contains(scalar.string.lowercased()) else {
            problem(field, node, "expected true or false")
            return nil
        }
        return scalar.string.lowercased() == "true"
    }

    mutating func number(_ node: Node?, field: String, range: ClosedRange<Double>) -> Double? {
        guard let node else { return nil }
        guard case .scalar(let scalar) = node, let value = Double(scalar.string) else {
            problem(field, node, "expected a number")
            return nil
        }
        guard range.contains(value) else {
            problem(field, node, "must be between \(range.lowerBound) and \(range.upperBound), got \(value)")
            return nil
        }
        return value
    }

    /// A share of a whole: `25%` or `0.25`, within `range` (as a fraction).
    mutating func share(_ node: Node?, field: String, range: ClosedRange<Double>) -> Double? {
        guard let node else { return nil }
        let text = (string(node, field: field) ?? "").trimmingCharacters(in: .whitespaces)
        let value = text.hasSuffix("%") ? Double(text.dropLast().trimmingCharacters(in: .whitespaces)).map { $0 / 100 } : Double(text)
        guard let value, range.contains(value) else {
            problem(field, node, "expected a share between \(Self.percent(range.lowerBound)) and \(Self.percent(range.upperBound)), like 25% or 0.25")
            return nil
        }
        return value
    }

    private static func percent(_ fraction: Double) -> String {
        let percent = fraction * 100
        return percent.rounded() == percent ? "\(Int(percent))%" : "\(percent)%"
    }

    /// A number of bytes: `1048576`, `512KB`, `8MB`, `1GB` (powers of 1024).
    mutating func byteSize(_ node: Node?, field: String) -> Double? {
        guard let node else { return nil }
        let text = (string(node, field: field) ?? "").trimmingCharacters(in: .whitespaces).uppercased()
        let units: [(String, Double)] = [("GB", 1_073_741_824), ("MB", 1_048_576), ("KB", 1024), ("B", 1), ("", 1)]
        for (unit, factor) in units where text.hasSuffix(unit) {
            if let number = Double(text.dropLast(unit.count).trimmingCharacters(in: .whitespaces)), number > 0, number * factor <= 1e12 {
                return number * factor
            }
            break
        }
        problem(field, node, "expected a positive number of bytes like 1048576, 512KB, 8MB or 1GB")
        return nil
    }

    /// A duration such as `200ms`, `2s`, `1.5m`, `1h` or a bare number of seconds.
    mutating func duration(_ node: Node?, field: String) -> Double? {
        guard let node else { return nil }
        guard let text = string(node, field: field), let seconds = Self.parseDuration(text), seconds > 0 else {
            problem(field, node, "expected a duration like 200ms, 2s, 1m or 1h")
            return nil
        }
        guard seconds <= Self.longestDuration else {
            problem(field, node, "must be at most 7 days, got \(text)")
            return nil
        }
        return seconds
    }

    /// The longest duration a spec may give (a week): durations become millisecond counts.
    static let longestDuration: Double = 7 * 24 * 3600

    /// Seconds in `200ms`, `2s`, `1.5m`, `1h` or a bare number; `nil` when malformed.
    public static func parseDuration(_ text: String) -> Double? {
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            return Double(text.dropLast(suffix.count)).map { $0 * factor }
        }
        return Double(text)
    }

    /// A string or a list of strings.
    mutating func stringList(_ node: Node?, field: String) -> [String]? {
        guard let node else { return nil }
        switch node {
        case .scalar:
            return string(node, field: field).map { [$0] }
        case .sequence(let sequence):
            var result: [String] = []
            for (index, item) in sequence.enumerated() {
                if let s = string(item, field: "\(field)[\(index)]") { result.append(s) }
            }
            return result
        default:
            problem(field, node, "expected a name or a list of names")
            return nil
        }
    }

    /// A key bound: one scalar or a list of scalars (composite keys), typed by YAML.
    mutating func keyValues(_ node: Node?, field: String) -> [Value]? {
        guard let node else { return nil }
        switch node {
        case .scalar(let scalar):
            return [Self.value(of: scalar)]
        case .sequence(let sequence):
            var result: [Value] = []
            for item in sequence {
                guard case .scalar(let scalar) = item else {
                    problem(field, item, "expected a key value")
                    return nil
                }
                result.append(Self.value(of: scalar))
            }
            return result
        default:
            problem(field, node, "expected a key value or a list of them")
            return nil
        }
    }

    private static func value(of scalar: Node.Scalar) -> Value {
        if scalar.style == .plain {
            if let int = Int64(scalar.string) { return .integer(int) }
            if let double = Double(scalar.string) { return .real(double) }
        }
        return .text(scalar.string)
    }

    static func closest(to name: String, in candidates: [String]) -> String? {
        candidates.map { ($0, editDistance(name, $0)) }.filter { $0.1 <= 2 }.min { $0.1 < $1.1 }?.0
    }

    private static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var row = Array(0...b.count)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            var previous = row[0]
            row[0] = i
            for j in 1...max(b.count, 1) where !b.isEmpty {
                let current = row[j]
                row[j] = min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] == b[j - 1] ? 0 : 1))
                previous = current
            }
        }
        return row[b.count]
    }
}
