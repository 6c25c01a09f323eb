/// Validates and quotes SQL identifiers taken from specs (invariant 7).
public enum Identifier {
    /// Any name the engines accept once quoted: not empty, no control characters (NUL, line breaks,
    /// tabs), at most 63 bytes (PostgreSQL's limit); spaces, `-`, quotes, mixed case and any letters
    /// are fine — every name is quoted with its quotes doubled, so even a hostile one is only a name.
    /// A table may carry a `schema.` prefix; a column name has no `.`.
    public static func isValid(_ name: String, allowSchema: Bool = false) -> Bool {
        let parts = name.unicodeScalars.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 1 || (allowSchema && parts.count == 2) else { return false }
        return parts.allSatisfy(isValidPart)
    }

    /// What `isValid` asks of a name, for messages.
    public static let rule = "a name must not be empty or hold control characters, at most 63 bytes (a column name without '.')"

    private static func isValidPart(_ part: Substring.UnicodeScalarView) -> Bool {
        !part.isEmpty && String(part).utf8.count <= 63 && !part.contains { $0.properties.generalCategory == .control }
    }

    /// `"name"` (or `"schema"."name"`), with embedded quotes doubled.
    ///
    /// Works on Unicode scalars, not characters: a quote followed by a combining mark is one
    /// `Character` (`"\u{301}`), which a character-wise replace would leave undoubled — and the name
    /// would end its quoting early.
    public static func quoted(_ name: String) -> String {
        var quoted = String.UnicodeScalarView()
        quoted.append("\"")
        for scalar in name.unicodeScalars {
            switch scalar {
            case "\"": quoted.append(contentsOf: ["\"", "\""])
            case ".": quoted.append(contentsOf: ["\"", ".", "\""])
            default: quoted.append(scalar)
            }
        }
        quoted.append("\"")
        return String(quoted)
    }
}

import Foundation
