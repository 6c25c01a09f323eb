import BackfillCore
import Foundation
import Testing

@Suite struct WindowTests {
    func date(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }

    func window(_ yaml: String) throws -> WindowSpec {
        let base = "name: x\nsource: { sqlite: a.db, table: t }\ntarget: { sqlite: b.db, table: t }\nkey: id\n"
        return try #require(SpecLoader.parse(yaml: base + yaml, file: "j", baseDirectory: "/", environment: [:]).spec.window)
    }

    @Test func opensAndClosesWithinADay() throws {
        let w = try window("window: { hours: \"01:00-05:00\", timezone: UTC }\n")
        #expect(w.contains(date("2026-11-25T01:00:00Z")))
        #expect(w.contains(date("2026-11-25T04:59:00Z")))
        #expect(!w.contains(date("2026-11-25T05:00:00Z")))
        #expect(w.nextOpening(after: date("2026-11-25T06:30:00Z")) == date("2026-11-26T01:00:00Z"))
    }

    @Test func wrapsPastMidnightAndHonoursDays() throws {
        let w = try window("window: { hours: \"22:00-02:00\", days: [fri], timezone: Europe/Berlin }\n")
        // 2026-11-27 is a Friday; Berlin is UTC+1 in November.
        #expect(w.contains(date("2026-11-27T21:30:00Z")))
        #expect(w.contains(date("2026-11-28T00:30:00Z")), "Saturday 01:30 belongs to Friday's window")
        #expect(!w.contains(date("2026-11-28T21:30:00Z")), "Saturday evening is not Friday")
        #expect(w.nextOpening(after: date("2026-11-28T12:00:00Z")) == date("2026-12-04T21:00:00Z"))
    }

    @Test func reportsBadWindowsAndThrottles() {
        let base = "name: x\nsource: { csv: a.csv }\ntarget: { sqlite: b.db, table: t }\nkey: id\n"
        let yaml = base + "window: { hours: \"5-1\", days: [funday], timezone: Mars/Olympus }\nthrottle: { query: \"select 1\" }\n"
        do {
            _ = try SpecLoader.parse(yaml: yaml, file: "j", baseDirectory: "/", environment: [:])
            Issue.record("expected problems")
        } catch let error as SpecProblems {
            let text = error.description
            #expect(text.contains("expected HH:MM-HH:MM"))
            #expect(text.contains("unknown day 'funday'"))
            #expect(text.contains("unknown time zone 'Mars/Olympus'"))
            #expect(text.contains("missing required key 'max'"))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }
}
