/// Removes secrets from connection strings before they reach a log, report, error or store.
public enum Redaction {
    /// `postgres://user:secret@host/db` → `postgres://user:***@host/db`; `password=…` → `password=***`.
    /// - Parameter keepingReferences: leave a secret that is only a `${VAR}` reference (nothing
    ///   secret is in the text, and the reference is what a later reader needs).
    public static func redact(_ text: String, keepingReferences: Bool = false) -> String {
        func hide(_ secret: Substring) -> Bool {
            let reference = secret.hasPrefix("${") && secret.hasSuffix("}") && secret.dropFirst(2).dropLast().allSatisfy { $0 != "}" && $0 != "$" }
            return !(keepingReferences && reference)
        }
        var result = text
        // Every connection string of the text (a list of replicas holds several on one line).
        var schemeSearch = result.startIndex
        while let scheme = result.range(of: "://", range: schemeSearch..<result.endIndex) {
            // The user info ends at the first `@` before a space, a double quote or the next
            // connection string (a password may hold a single quote).
            var stop = result[scheme.upperBound...].firstIndex { $0.isWhitespace || $0 == "\"" } ?? result.endIndex
            if let next = result.range(of: "://", range: scheme.upperBound..<stop) { stop = next.lowerBound }
            guard let at = result.range(of: "@", range: scheme.upperBound..<stop) else {
                schemeSearch = scheme.upperBound
                continue
            }
            let userInfo = result[scheme.upperBound..<at.lowerBound]
            var resume = at.upperBound
            if let colon = userInfo.firstIndex(of: ":"), hide(result[result.index(after: colon)..<at.lowerBound]) {
                let start = result.index(after: colon)
                let offset = result.distance(from: result.startIndex, to: start) + 4  // past `***@`
                result.replaceSubrange(start..<at.lowerBound, with: "***")
                resume = result.index(result.startIndex, offsetBy: offset)
            }
            schemeSearch = resume
        }
        for keyword in ["password=", "token=", "secret="] {
            var searchStart = result.startIndex
            while let found = result.range(of: keyword, options: .caseInsensitive, range: searchStart..<result.endIndex) {
                let end = result[found.upperBound...].firstIndex { $0 == " " || $0 == "&" || $0 == "\"" } ?? result.endIndex
                if hide(result[found.upperBound..<end]) {
                    result.replaceSubrange(found.upperBound..<end, with: "***")
                }
                searchStart = result.index(found.upperBound, offsetBy: 3, limitedBy: result.endIndex) ?? result.endIndex
            }
        }
        return result
    }
}
