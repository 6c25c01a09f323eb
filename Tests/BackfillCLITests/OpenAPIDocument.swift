import Foundation
import Yams

/// `docs/openapi.yaml`, and a validator of response bodies against the schemas it documents:
/// `$ref`, `type`, `enum`, `const`, `required`, `properties`, `additionalProperties`, `items` and
/// `format: date-time` — the subset the document uses.
struct OpenAPIDocument {
    let root: JSONValue

    static func load() throws -> OpenAPIDocument {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let text = try String(contentsOf: repository.appendingPathComponent("docs/openapi.yaml"), encoding: .utf8)
        return OpenAPIDocument(root: try YAMLDecoder().decode(JSONValue.self, from: text))
    }

    /// The paths the document lists.
    var paths: Set<String> { Set(root["paths"]?.object?.keys ?? [:].keys) }

    /// What is wrong with `body` as the `status` answer to `method path` (empty: it conforms).
    func problems(_ method: String, _ path: String, status: String = "200", body: Data) -> [String] {
        guard let operation = resolve(root["paths"]?[path]?[method]) else { return ["\(method) \(path) is not documented"] }
        guard let schema = resolve(operation["responses"]?[status])?["content"]?["application/json"]?["schema"] else {
            return ["\(method) \(path) documents no JSON schema for \(status)"]
        }
        let value: JSONValue
        do {
            value = try JSONDecoder().decode(JSONValue.self, from: body)
        } catch {
            return ["\(method) \(path): the body is not JSON"]
        }
        return problems(value, schema, at: "\(method) \(path) $")
    }

    private func resolve(_ schema: JSONValue?) -> JSONValue? {
        guard let reference = schema?["$ref"]?.string else { return schema }
        var node: JSONValue? = root
        for part in reference.dropFirst(2).split(separator: "/") { node = node?[String(part)] }
        return resolve(node)
    }

    private func problems(_ value: JSONValue, _ schema: JSONValue, at path: String) -> [String] {
        guard let schema = resolve(schema) else { return ["\(path): unresolvable schema"] }
        var found: [String] = []
        if let type = schema["type"] {
            let allowed = type.array?.compactMap(\.string) ?? [type.string ?? ""]
            if !allowed.contains(where: value.isOfType) { return ["\(path): \(value.typeName), expected \(allowed.joined(separator: " or "))"] }
        }
        if let choices = schema["enum"]?.array, !choices.contains(value) { found.append("\(path): \(value) not one of \(choices)") }
        if let constant = schema["const"], constant != value { found.append("\(path): \(value) is not \(constant)") }
        if schema["format"]?.string == "date-time", let text = value.string, ISO8601DateFormatter().date(from: text) == nil {
            found.append("\(path): \(text) is not a date-time")
        }
        if let object = value.object {
            for name in schema["required"]?.array?.compactMap(\.string) ?? [] where object[name] == nil {
                found.append("\(path).\(name) is required")
            }
            let properties = schema["properties"]?.object ?? [:]
            for (name, member) in object {
                if let property = properties[name] {
                    found += problems(member, property, at: "\(path).\(name)")
                } else if let additional = schema["additionalProperties"], additional.object != nil {
                    found += problems(member, additional, at: "\(path).\(name)")
                }
            }
        }
        if let items = value.array, let itemSchema = schema["items"] {
            for (index, item) in items.enumerated() { found += problems(item, itemSchema, at: "\(path)[\(index)]") }
        }
        return found
    }
}

/// Any JSON (or YAML) value, decoded without Foundation's number/boolean ambiguity.
enum JSONValue: Decodable, Hashable, CustomStringConvertible {
    case null, bool(Bool), integer(Int), number(Double), string(String), array([JSONValue]), object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        if let container = try? decoder.container(keyedBy: AnyKey.self) {
            var object: [String: JSONValue] = [:]
            for key in container.allKeys { object[key.stringValue] = try container.decode(JSONValue.self, forKey: key) }
            self = .object(object)
            return
        }
        if var container = try? decoder.unkeyedContainer() {
            var array: [JSONValue] = []
            while !container.isAtEnd { array.append(try container.decode(JSONValue.self)) }
            self = .array(array)
            return
        }
        let single = try decoder.singleValueContainer()
        if single.decodeNil() { self = .null }
        else if let value = try? single.decode(Bool.self) { self = .bool(value) }
        else if let value = try? single.decode(Int.self) { self = .integer(value) }
        else if let value = try? single.decode(Double.self) { self = .number(value) }
        else { self = .string(try single.decode(String.self)) }
    }

    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    subscript(key: String) -> JSONValue? { object?[key] }
    var object: [String: JSONValue]? { if case .object(let value) = self { value } else { nil } }
    var array: [JSONValue]? { if case .array(let value) = self { value } else { nil } }
    var string: String? { if case .string(let value) = self { value } else { nil } }

    var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .integer: "integer"
        case .number: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }

    func isOfType(_ type: String) -> Bool { type == typeName || (type == "number" && typeName == "integer") }

    var description: String {
        switch self {
        case .null: "null"
        case .bool(let value): "\(value)"
        case .integer(let value): "\(value)"
        case .number(let value): "\(value)"
        case .string(let value): "\"\(value)\""
        case .array(let value): "\(value)"
        case .object(let value): "\(value)"
        }
    }
}
