import Foundation

/// The `Retry-After` header of a 429 or 503: delay-seconds or an HTTP-date.
enum RetryAfter {
    /// The wait it asks for, at most `cap`; `nil` when absent or unreadable.
    static func delay(_ value: String?, now: Date = Date(), cap: Duration = .seconds(300)) -> Duration? {
        guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        if let seconds = Double(value), seconds >= 0 { return min(.milliseconds(Int64(seconds * 1000)), cap) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: value) else { return nil }
        let seconds = max(0, date.timeIntervalSince(now))
        return min(.milliseconds(Int64(seconds * 1000)), cap)
    }
}
