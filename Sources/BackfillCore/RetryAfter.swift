import Foundation

/// The `Retry-After` header of a 429 or 503: delay-seconds or an HTTP-date (RFC 9110 §10.2.3).
public enum RetryAfter {
    /// The wait it asks for, at most `cap`; `nil` when absent or unreadable. Any number of seconds —
    /// `1e300`, `inf` — is capped, never converted past what a `Duration` holds.
    public static func delay(_ value: String?, now: Date = Date(), cap: Duration = .seconds(300)) -> Duration? {
        guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        if let seconds = Double(value), seconds >= 0 { return capped(seconds, cap) }
        // An HTTP-date is ASCII; Foundation's DateFormatter traps on some other bytes (found by fuzzing).
        guard value.unicodeScalars.allSatisfy(\.isASCII) else { return nil }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: value) else { return nil }
        return capped(max(0, date.timeIntervalSince(now)), cap)
    }

    private static func capped(_ seconds: Double, _ cap: Duration) -> Duration {
        seconds < cap.inSeconds ? .milliseconds(Int64(seconds * 1000)) : cap
    }
}
