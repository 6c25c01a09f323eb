/// Removes secrets from connection strings before they reach a log, report or error.
public enum Redaction {
    /// `postgres://user:secret@host/db` → `postgres://user:***@host/db`; `password=…` → `password=***`.
    public static func redact(_ text: String) -> String {
        var result = text
        if let scheme = result.range(of: "://"), let at = result.range(of: "@", range: scheme.upperBound..<result.endIndex) {
            let userInfo = result[scheme.upperBound..<at.lowerBound]
            if let colon = userInfo.firstIndex(of: ":") {
                result.replaceSubrange(result.index(after: colon)..<at.lowerBound, with: "***")
            }
        }
        for keyword in ["password=", "token=", "secret="] {
            var searchStart = result.startIndex
            while let found = result.range(of: keyword, options: .caseInsensitive, range: searchStart..<result.endIndex) {
                let end = result[found.upperBound...].firstIndex { $0 == " " || $0 == "&" } ?? result.endIndex
                result.replaceSubrange(found.upperBound..<end, with: "***")
                searchStart = result.index(found.upperBound, offsetBy: 3, limitedBy: result.endIndex) ?? result.endIndex
            }
        }
        return result
    }
}
