import Foundation

/// What a compared column holds, across engines: the form both sides' values are brought to
/// before a cross-engine `verify` compares them, so that equal data compares equal whichever
/// engine (or export) stored it.
///
/// - NULL stays NULL and is never equal to an empty string or zero.
/// - `decimal`: a plain decimal string without exponent, leading zeros or trailing fraction zeros
///   (`12.50`, `12.5` and the real `12.5` are all `12.5`; `-0` is `0`): numeric scale is ignored.
/// - `timestamp`: ISO 8601 in UTC, `YYYY-MM-DDTHH:MM:SS[.ffffff]Z` (fraction without trailing
///   zeros); text with any offset (`+02`, `+05:30`, `Z`) or none (taken as UTC) is converted.
///   `localTimestamp` is the same without a zone (an offset in the text is dropped, not applied).
///   `utcDateTime` applies the offset, as `timestamp` does, and is written without the `Z`: a
///   zone-less date-time that holds UTC (a MySQL `DATETIME` or `TIMESTAMP` as backfill writes it).
///   Without a suffix, a shorter fraction sorts first, so the text orders as the time does — a
///   `newer-wins` version or a key of this kind is compared by it.
/// - `json`: parsed and written again with sorted keys and no spaces.
/// - `uuid`: lower case. `boolean`: 0 or 1 (`t`/`true`/`f`/`false` accepted).
/// - `float4`: the nearest float4, widened exactly.
/// - `text`: byte for byte (no Unicode normalisation: a backfill copies bytes, and a differently
///   normalised string is a real difference).
/// Values that do not parse as their kind are compared as they are (and so reported as different).
public enum CanonicalKind: Sendable, Hashable {
    case integer, real, decimal, boolean, text, json, uuid, bytes, date, timestamp, localTimestamp, utcDateTime
    /// A float4: a real rounded to the nearest float4, as the column stores it (`0.33333334` and
    /// `0.3333333432674408` are one float4).
    case float4

    /// The canonical form of `value`.
    public func canonical(_ value: Value) -> Value {
        switch (self, value) {
        case (_, .null): return .null
        case (.integer, .real(let v)): return Int64(exactly: v).map(Value.integer) ?? value
        case (.integer, .text(let t)): return Int64(CanonicalText.trimmed(t)).map(Value.integer) ?? value
        case (.real, .integer(let v)): return .real(Double(v))
        case (.real, .text(let t)): return Double(t).map(Value.real) ?? value
        case (.float4, .integer(let v)): return .real(Double(Float(v)))
        case (.float4, .real(let v)): return .real(Double(Float(v)))
        case (.float4, .text(let t)): return Float(t).map { Value.real(Double($0)) } ?? value
        case (.decimal, .integer(let v)): return .text(String(v))
        case (.decimal, .real(let v)): return v.isFinite ? (CanonicalText.decimal("\(v)").map(Value.text) ?? value) : value
        case (.decimal, .text(let t)): return CanonicalText.decimal(t).map(Value.text) ?? value
        case (.boolean, .text(let t)):
            switch t.lowercased() {
            case "t", "true", "1", "yes", "on": return .integer(1)
            case "f", "false", "0", "no", "off": return .integer(0)
            default: return value
            }
        case (.boolean, .real(let v)): return v == 0 ? .integer(0) : (v == 1 ? .integer(1) : value)
        case (.text, .integer(let v)): return .text(String(v))
        case (.json, .text(let t)): return CanonicalText.json(t).map(Value.text) ?? value
        case (.uuid, .text(let t)): return .text(t.lowercased())
        case (.timestamp, .text(let t)): return CanonicalText.timestamp(t, applyingOffset: true).map(Value.text) ?? value
        case (.localTimestamp, .text(let t)): return CanonicalText.timestamp(t, applyingOffset: false).map(Value.text) ?? value
        case (.utcDateTime, .text(let t)): return Self.utcDateTime(t).map(Value.text) ?? value
        case (.date, .text(let t)) where t.count > 10 && t.dropFirst(10).allSatisfy({ "0:. TZ+".contains($0) }):
            // A date written as midnight (`2024-01-01T00:00:00Z`) is that date.
            return .text(String(t.prefix(10)))
        case (.bytes, .text(let t)) where t.hasPrefix("\\x"): return CanonicalText.hexBytes(t.dropFirst(2)).map(Value.blob) ?? value
        default: return value
        }
    }
}

extension CanonicalKind {
    /// A canonical value as its order is compared (keys merged, `newer-wins` versions): a
    /// `timestamp` without its `Z`, so that a shorter fraction sorts first (`…:00Z` would sort
    /// after `…:00.25Z`). Equality is the same either way: every canonical timestamp ends in `Z`.
    public func ordered(_ canonical: Value) -> Value {
        guard self == .timestamp, case .text(let text) = canonical, text.hasSuffix("Z") else { return canonical }
        return .text(String(text.dropLast()))
    }

    /// `text` as the `utcDateTime` kind gives it: `YYYY-MM-DDTHH:MM:SS[.f]` in UTC, its offset
    /// applied (text without one is taken as UTC); `nil` when `text` is not a timestamp.
    public static func utcDateTime(_ text: String) -> String? {
        CanonicalText.timestamp(text, applyingOffset: true).map { String($0.dropLast()) }
    }
}

/// The text forms `CanonicalKind` produces.
enum CanonicalText {
    /// `-0012.3400e1` → `-123.4`; `nil` when `text` is not a decimal number.
    static func decimal(_ text: String) -> String? {
        var chars = Substring(trimmed(text))
        var negative = false
        if chars.first == "-" || chars.first == "+" {
            negative = chars.first == "-"
            chars = chars.dropFirst()
        }
        var exponent = 0
        if let e = chars.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            guard let value = Int(chars[chars.index(after: e)...]) else { return nil }
            exponent = value
            chars = chars[..<e]
        }
        let parts = chars.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, !chars.isEmpty else { return nil }
        var integer = Array(parts[0]), fraction = parts.count == 2 ? Array(parts[1]) : []
        guard (integer + fraction).allSatisfy(\.isASCII), (integer + fraction).allSatisfy(\.isNumber), !(integer + fraction).isEmpty else {
            return nil
        }
        // Move the point by the exponent.
        if exponent > 0 {
            let moved = fraction.prefix(exponent)
            integer += moved + Array(repeating: "0", count: exponent - moved.count)
            fraction = Array(fraction.dropFirst(exponent))
        } else if exponent < 0 {
            let shift = -exponent
            let padded = Array(repeating: Character("0"), count: max(0, shift - integer.count)) + integer
            fraction = Array(padded.suffix(shift)) + fraction
            integer = Array(padded.dropLast(shift))
        }
        while integer.first == "0" { integer.removeFirst() }
        while fraction.last == "0" { fraction.removeLast() }
        if integer.isEmpty { integer = ["0"] }
        let digits = String(integer) + (fraction.isEmpty ? "" : "." + String(fraction))
        return negative && digits != "0" ? "-" + digits : digits
    }

    /// JSON with sorted keys and no spaces; `nil` when `text` is not JSON.
    static func json(_ text: String) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]),
            let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes, .fragmentsAllowed])
        else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    /// `YYYY-MM-DD[T ]HH:MM[:SS[.f…]][Z|±HH[:MM[:SS]]]` → `YYYY-MM-DDTHH:MM:SS[.f]Z` in UTC (or
    /// without `Z` and without applying the offset); `nil` when `text` is not such a timestamp.
    static func timestamp(_ text: String, applyingOffset: Bool) -> String? {
        let bytes = Array(trimmed(text).utf8)
        func number(_ at: Int, _ count: Int) -> Int? {
            guard at + count <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[at..<(at + count)] {
                guard byte >= 48 && byte <= 57 else { return nil }
                value = value * 10 + Int(byte - 48)
            }
            return value
        }
        guard bytes.count >= 16, let year = number(0, 4), bytes[4] == 45, let month = number(5, 2), bytes[7] == 45,
            let day = number(8, 2), bytes[10] == 84 || bytes[10] == 32, let hour = number(11, 2), bytes[13] == 58,
            let minute = number(14, 2)
        else { return nil }
        var at = 16
        var second = 0
        var fraction: [UInt8] = []
        if at < bytes.count, bytes[at] == 58 {
            guard let s = number(at + 1, 2) else { return nil }
            second = s
            at += 3
            if at < bytes.count, bytes[at] == 46 {
                at += 1
                while at < bytes.count, bytes[at] >= 48 && bytes[at] <= 57 {
                    fraction.append(bytes[at])
                    at += 1
                }
            }
        }
        var offsetSeconds = 0
        if at < bytes.count {
            switch bytes[at] {
            case 90, 122: at += 1  // Z
            case 43, 45:
                let sign = bytes[at] == 45 ? -1 : 1
                var parts: [Int] = []
                var cursor = at + 1
                while parts.count < 3, let value = number(cursor, 2) {
                    parts.append(value)
                    cursor += 2
                    if cursor < bytes.count, bytes[cursor] == 58 { cursor += 1 }
                }
                guard !parts.isEmpty else { return nil }
                offsetSeconds = sign * (parts[0] * 3600 + (parts.count > 1 ? parts[1] * 60 : 0) + (parts.count > 2 ? parts[2] : 0))
                at = cursor
            default: return nil
            }
        }
        guard at == bytes.count, (1...12).contains(month), (1...CivilDate.days(inMonth: month, of: year)).contains(day), hour < 24,
            minute < 60, second < 61
        else { return nil }
        // Proleptic Gregorian arithmetic, as PostgreSQL counts (Foundation's calendar switches to
        // the Julian one before 1582, which would move an offset across that change by ten days).
        var instant = (CivilDate.days(year: year, month: month, day: day) * 86_400) + hour * 3_600 + minute * 60 + second
        if applyingOffset { instant -= offsetSeconds }
        let (days, seconds) = (instant.floorDiv(86_400), instant.floorMod(86_400))
        let date = CivilDate(days: days)
        while fraction.last == 48 { fraction.removeLast() }
        // `%04d-%02d-%02dT%02d:%02d:%02d`, written byte by byte (Foundation's formatting was most
        // of the cost of hashing a row in the process).
        var out: [UInt8] = []
        out.reserveCapacity(27 + fraction.count)
        appendPadded(date.year, width: 4, to: &out)
        out.append(45)
        appendPadded(date.month, width: 2, to: &out)
        out.append(45)
        appendPadded(date.day, width: 2, to: &out)
        out.append(84)
        appendPadded(seconds / 3_600, width: 2, to: &out)
        out.append(58)
        appendPadded(seconds % 3_600 / 60, width: 2, to: &out)
        out.append(58)
        appendPadded(seconds % 60, width: 2, to: &out)
        if !fraction.isEmpty {
            out.append(46)
            out.append(contentsOf: fraction)
        }
        if applyingOffset { out.append(90) }
        return String(decoding: out, as: UTF8.self)
    }

    /// `value` as `printf`'s `%0<width>d` writes it: zero-padded to `width` characters, a minus
    /// sign counted in the width.
    static func appendPadded(_ value: Int, width: Int, to out: inout [UInt8]) {
        let digits = String(value.magnitude).utf8  // a small string: no allocation
        if value < 0 { out.append(45) }
        for _ in 0..<max(0, width - digits.count - (value < 0 ? 1 : 0)) { out.append(48) }
        out.append(contentsOf: digits)
    }

    /// `text` without leading and trailing white space (`CharacterSet.whitespaces`); text that
    /// starts and ends with a visible ASCII character is returned as it is without asking Foundation.
    static func trimmed(_ text: String) -> String {
        let isPlain = { (byte: UInt8) in byte > 32 && byte < 128 }
        guard let first = text.utf8.first, let last = text.utf8.last, isPlain(first), isPlain(last) else {
            return text.trimmingCharacters(in: .whitespaces)
        }
        return text
    }

    static func hexBytes(_ hex: Substring) -> [UInt8]? {
        guard hex.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            guard let byte = UInt8(hex[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        return bytes
    }
}

/// A date of the proleptic Gregorian calendar and its day number since 1970-01-01 (Howard
/// Hinnant's `days_from_civil` and `civil_from_days`).
struct CivilDate {
    var year: Int, month: Int, day: Int

    init(days z: Int) {
        let z = z + 719_468
        let era = z.floorDiv(146_097)
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shifted = (5 * dayOfYear + 2) / 153
        day = dayOfYear - (153 * shifted + 2) / 5 + 1
        month = shifted < 10 ? shifted + 3 : shifted - 9
        year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
    }

    static func days(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = y.floorDiv(400)
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    static func days(inMonth month: Int, of year: Int) -> Int {
        switch month {
        case 2: return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }
}

extension Int {
    /// Division rounding towards minus infinity.
    func floorDiv(_ divisor: Int) -> Int { (self - floorMod(divisor)) / divisor }
    /// The remainder with the divisor's sign (0 ..< divisor for a positive one).
    func floorMod(_ divisor: Int) -> Int { ((self % divisor) + divisor) % divisor }
}
