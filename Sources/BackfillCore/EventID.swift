import Foundation

/// An event's id as text: how the delivery ledger records it and the receiver's `Idempotency-Key`
/// carries it.
public enum EventID {
    public static func text(_ value: Value) -> String {
        switch value {
        case .integer(let v): return String(v)
        case .text(let v): return v
        case .real(let v): return String(v)
        case .blob(let v): return Hex.encode(v)
        case .null: return ""
        }
    }
}
