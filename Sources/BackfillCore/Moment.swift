/// A date, or a date and time, as an export writes it (ISO 8601): `2024-05-01`,
/// `2024-05-01T12:30:00[.123456]` or with `Z`/`+02`/`+0200`/`+02:00` after it — only a real
/// calendar day of years 1–9999 (PostgreSQL refuses `2024-02-30` and year 0) and a time of
/// 00:00:00–23:59:59 (PostgreSQL moves `24:00:00` and a leap second to the next day or minute).
///
/// Scanned by hand: matching a Regex cost more than the rest of a type inference together.
struct Moment: Equatable {
    enum Shape: Equatable { case date, timestamp, timestamptz }

    let shape: Shape

    /// `nil` when `text` is not, whole, one of the forms above.
    init?(_ text: String) {
        var scanner = Scanner(bytes: Array(text.utf8))
        guard let year = scanner.digits(4), scanner.skip("-"), let month = scanner.digits(2), scanner.skip("-"),
            let day = scanner.digits(2), Self.isDay(year: year, month: month, day: day)
        else { return nil }
        if scanner.atEnd {
            shape = .date
            return
        }
        guard scanner.skip("T") || scanner.skip(" "), let hour = scanner.digits(2), scanner.skip(":"),
            let minute = scanner.digits(2), scanner.skip(":"), let second = scanner.digits(2),
            hour <= 23, minute <= 59, second <= 59
        else { return nil }
        if scanner.skip(".") {
            var fraction = 0
            while fraction < 6, scanner.digits(1) != nil { fraction += 1 }
            guard fraction > 0 else { return nil }
        }
        if scanner.atEnd {
            shape = .timestamp
            return
        }
        if scanner.skip("Z") {
            guard scanner.atEnd else { return nil }
        } else {
            guard scanner.skip("+") || scanner.skip("-"), scanner.digits(2) != nil else { return nil }
            if !scanner.atEnd {
                _ = scanner.skip(":")
                guard scanner.digits(2) != nil, scanner.atEnd else { return nil }
            }
        }
        shape = .timestamptz
    }

    private static func isDay(year: Int, month: Int, day: Int) -> Bool {
        guard year >= 1, (1...12).contains(month), day >= 1 else { return false }
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        return day <= days[month - 1]
    }

    private struct Scanner {
        let bytes: [UInt8]
        var index = 0

        var atEnd: Bool { index == bytes.count }

        /// Consumes `character` when it is next.
        mutating func skip(_ character: Unicode.Scalar) -> Bool {
            guard index < bytes.count, bytes[index] == UInt8(ascii: character) else { return false }
            index += 1
            return true
        }

        /// Consumes exactly `count` ASCII digits and returns their value; nothing when fewer follow.
        mutating func digits(_ count: Int) -> Int? {
            guard index + count <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[index..<(index + count)] {
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            index += count
            return value
        }
    }
}
