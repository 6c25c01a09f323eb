/// Validates and quotes SQL identifiers taken from specs (invariant 7).
public enum Identifier {
    /// Letters, digits and `_`, not starting with a digit, at most 63 characters; an optional
    /// `schema.` prefix for tables.
    public static func isValid(_ name: String, allowSchema: Bool = false) -> Bool {
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 1 || (allowSchema && parts.count == 2) else { return false }
        return parts.allSatisfy(isValidPart)
    }

    private static func isValidPart(_ part: Substring) -> Bool {
        guard let first = part.unicodeScalars.first, part.utf8.count <= 63 else { return false }
        guard first == "_" || (first.isASCII && first.properties.isAlphabetic) else { return false }
        return part.unicodeScalars.allSatisfy { $0 == "_" || ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) }
    }

    /// `"name"` (or `"schema"."name"`), with embedded quotes doubled.
    public static func quoted(_ name: String) -> String {
        name.split(separator: ".", omittingEmptySubsequences: false)
            .map { "\"" + $0.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
            .joined(separator: ".")
    }
}

import Foundation
