import Foundation

/// Values are stored in the state store (cursors, quarantine) as tagged JSON so that
/// `1`, `1.0` and `"1"` keep their storage class across a crash and resume.
extension Value: Codable {
    private enum CodingKeys: String, CodingKey {
        case integer = "i", real = "r", text = "t", blob = "b"
        /// A real JSON has no number for: `NaN`, `Infinity` or `-Infinity`, as text.
        case nonFiniteReal = "rx"
    }

    public init(from decoder: any Decoder) throws {
        if let single = try? decoder.singleValueContainer(), single.decodeNil() {
            self = .null
            return
        }
        let container = try decoder.container(keyedBy: CodingKeys.self)
        if let v = try container.decodeIfPresent(Int64.self, forKey: .integer) {
            self = .integer(v)
        } else if let v = try container.decodeIfPresent(Double.self, forKey: .real) {
            self = .real(v)
        } else if let v = try container.decodeIfPresent(String.self, forKey: .nonFiniteReal) {
            switch v {
            case "NaN": self = .real(.nan)
            case "Infinity": self = .real(.infinity)
            case "-Infinity": self = .real(-.infinity)
            default: throw DecodingError.dataCorruptedError(forKey: .nonFiniteReal, in: container, debugDescription: "not NaN or ±Infinity")
            }
        } else if let v = try container.decodeIfPresent(String.self, forKey: .text) {
            self = .text(v)
        } else if let v = try container.decodeIfPresent(String.self, forKey: .blob) {
            self = .blob(Array(Data(base64Encoded: v) ?? Data()))
        } else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a value"))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .null:
            var single = encoder.singleValueContainer()
            try single.encodeNil()
        case .integer(let v):
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(v, forKey: .integer)
        case .real(let v) where !v.isFinite:
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(v.isNaN ? "NaN" : (v > 0 ? "Infinity" : "-Infinity"), forKey: .nonFiniteReal)
        case .real(let v):
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(v, forKey: .real)
        case .text(let v):
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(v, forKey: .text)
        case .blob(let v):
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(Data(v).base64EncodedString(), forKey: .blob)
        }
    }
}

extension Value {
    /// A plain JSON rendering for reports (`NULL` → `null`, numbers as numbers, blobs as hex text).
    public var plainJSON: Any {
        switch self {
        case .null: return NSNull()
        case .integer(let v): return v
        case .real(let v): return v
        case .text(let v): return v
        case .blob: return description
        }
    }
}
