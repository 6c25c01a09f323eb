import Foundation
import Logging

/// `--log-format json`: one JSON object per line on standard error — `ts` (ISO 8601, UTC),
/// `level`, `message`, `source`, and every metadata key (`backfill.run`, `backfill.chunk`,
/// `backfill.rows.read`, …) as a member; whole numbers are JSON numbers.
struct JSONLogHandler: LogHandler {
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]
    let label: String

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var object: [String: Any] = [
            "ts": Self.timestamp(), "level": event.level.rawValue, "message": event.message.description,
            "source": event.source, "label": label,
        ]
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        for (key, value) in merged { object[key] = Self.json(value) }
        guard var data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return }
        data.append(UInt8(ascii: "\n"))
        // One write per line, so that lines of concurrent workers never interleave.
        FileHandle.standardError.write(data)
    }

    private static func json(_ value: Logger.Metadata.Value) -> Any {
        switch value {
        case .string(let text): return text
        case .stringConvertible(let convertible):
            if let number = convertible as? any BinaryInteger { return Int(number) }
            if let number = convertible as? Double, number.isFinite { return number }
            return convertible.description
        case .dictionary(let dictionary): return dictionary.mapValues(json)
        case .array(let array): return array.map(json)
        }
    }

    private static func timestamp() -> String {
        Date().formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}

/// How log lines look on standard error.
enum LogFormat: String, CaseIterable, Sendable {
    case text, json
}
