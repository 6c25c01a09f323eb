import BackfillCore
import Testing

@Suite struct SpecLoaderTests {
    func parse(_ yaml: String, environment: [String: String] = [:]) throws -> LoadedSpec {
        try SpecLoader.parse(yaml: yaml, file: "job.yaml", baseDirectory: "/work", environment: environment)
    }

    func problems(_ yaml: String) -> [SpecProblem] {
        do {
            _ = try parse(yaml)
            return []
        } catch let error as SpecProblems {
            return error.problems
        } catch {
            return []
        }
    }

    @Test func parsesEveryContractKey() throws {
        let loaded = try parse("""
            name: orders-after-outage
            source: { sqlite: data/primary.db, table: orders }
            target: { sqlite: data/replica.db, table: orders }
            key: [tenant_id, id]
            columns: [tenant_id, id, status, updated_at]
            mode: insert-missing
            conflict: { newer-wins: updated_at }
            range: { where: "updated_at >= '2026-11-01'", from: [1, 100], to: [1, "z"] }
            batch: { size: 1000, target-duration: 200ms, min: 100, max: 20000 }
            workers: 3
            limits: { rows-per-second: 5000, max-error-rate: 0.05, retries: 4 }
            state: other/state.db
            """)
        let spec = loaded.spec
        #expect(spec.key == ["tenant_id", "id"])
        #expect(spec.mode == .insertMissing)
        #expect(spec.newerWins == "updated_at")
        #expect(spec.range.from == [.integer(1), .integer(100)])
        #expect(spec.range.to == [.integer(1), .text("z")])
        #expect(spec.batch.targetDuration == 0.2)
        #expect(spec.workers == 3)
        #expect(spec.limits.rowsPerSecond == 5000)
        #expect(spec.limits.retries == 4)
        #expect(spec.statePath == "/work/other/state.db")
        #expect(spec.resolve(path: "data/primary.db") == "/work/data/primary.db")
        #expect(loaded.lines["mode"] == 6)
    }

    @Test func reportsEveryProblemWithItsLine() {
        let found = problems("""
            name: x
            source: { sqlite: a.db, tabel: t }
            target: { sqlite: b.db, table: t }
            key: id
            workers: lots
            mode: merge
            extra: 1
            """)
        #expect(found.map(\.line) == [2, 2, 5, 6, 7])
        #expect(found.contains { $0.message.contains("did you mean 'table'") })
        #expect(found.contains { $0.field == "workers" && $0.message == "expected a whole number" })
        #expect(found.contains { $0.description.hasPrefix("job.yaml:7:1: extra: unknown key 'extra'") })
    }

    @Test("health: live-traffic and gentle-share; replica-lag also for a PostgreSQL source; bad values named")
    func healthControls() throws {
        let postgres = "postgres://u@h/db"
        let spec = try parse("""
            name: x
            source: { sqlite: a.db, table: t }
            target: { postgres: "\(postgres)", table: t }
            key: id
            health: { live-traffic: gentle, gentle-share: 5% }
            """).spec
        #expect(spec.health.liveTraffic == .gentle)
        #expect(spec.health.gentleShare == 0.05)
        let defaults = try parse("name: x\nsource: { sqlite: a.db, table: t }\ntarget: { sqlite: b.db, table: t }\nkey: id").spec
        #expect(defaults.health.liveTraffic == .auto)
        #expect(defaults.health.gentleShare == HealthSpec.defaultGentleShare)
        let fromStandby = try parse("""
            name: x
            source: { postgres: "\(postgres)", table: t }
            target: { sqlite: b.db, table: t }
            key: id
            health: { replica-lag: 2s }
            """).spec
        #expect(fromStandby.health.replicaLag == 2)
        let found = problems("""
            name: x
            source: { sqlite: a.db, table: t }
            target: { sqlite: b.db, table: t }
            key: id
            health: { live-traffic: slow, gentle-share: 0%, replica-lag: 1s }
            """)
        #expect(found.contains { $0.field == "health.live-traffic" && $0.message.contains("auto, gentle, full-speed") })
        #expect(found.contains { $0.field == "health.gentle-share" && $0.message.contains("like 25% or 0.25") })
        #expect(found.contains { $0.field == "health.replica-lag" && $0.message.contains("a sqlite source and a sqlite target have none") })
    }

    @Test func interpolatesEnvironmentVariables() throws {
        let yaml = "name: x\nsource: { sqlite: \"${DIR}/a.db\", table: t }\ntarget: { sqlite: b.db, table: t }\nkey: id\n"
        let loaded = try parse(yaml, environment: ["DIR": "/data"])
        #expect(loaded.spec.source.location == "/data/a.db")
        #expect(throws: SpecProblems.self) { try parse(yaml) }
    }

    /// Names no engine can take: empty, control characters, over 63 bytes, a schema where none may be.
    @Test(arguments: ["", "a\u{0}b", "line\nbreak", "tab\tname", String(repeating: "x", count: 64), "schema.table", "a..b", ".x"])
    func refusesNamesNoEngineTakes(name: String) {
        #expect(!Identifier.isValid(name))
    }

    /// Any other name is accepted (`Order-Lines 2`, `1abc`, quotes, semicolons) and quoted so that
    /// even a hostile one is only a name (invariant 7).
    @Test(arguments: [
        "orders; drop table x", "1abc", "a\"b", "Order-Lines 2", "MixedCase", "ünïcödé", String(repeating: "x", count: 63),
        "x\"\u{301}; drop table t; --",  // a quote and a combining mark are one Character
    ])
    func acceptsAndQuotesAnyOtherName(name: String) {
        #expect(Identifier.isValid(name))
        let scalars = Array(Identifier.quoted(name).unicodeScalars)
        #expect(scalars.first == "\"" && scalars.last == "\"")
        // Inside the outer quotes every quote is doubled: the name cannot end its quoting early.
        var inner = scalars.dropFirst().dropLast()[...]
        while let quote = inner.firstIndex(of: "\"") {
            #expect(inner.index(after: quote) < inner.endIndex && inner[inner.index(after: quote)] == "\"", "\(Identifier.quoted(name))")
            inner = inner[min(inner.index(quote, offsetBy: 2), inner.endIndex)...]
        }
        #expect(String(String.UnicodeScalarView(scalars)) == "\"" + String(String.UnicodeScalarView(name.unicodeScalars.flatMap { $0 == "\"" ? ["\"", "\""] : [$0] })) + "\"")
    }

    @Test func quotesIdentifiers() {
        #expect(Identifier.quoted("orders") == "\"orders\"")
        #expect(Identifier.quoted("public.orders") == "\"public\".\"orders\"")
        #expect(Identifier.isValid("public.orders", allowSchema: true))
    }

    @Test func redactsSecrets() {
        #expect(Redaction.redact("postgres://app:hunter2@db:5432/x") == "postgres://app:***@db:5432/x")
        // Every connection string of a line: a list of replicas.
        #expect(
            Redaction.redact(#"replicas: ["mysql://a:pa,ss@r1:3306", mysql://b:s3cret@r2, "mysql://c@r3"]"#)
                == #"replicas: ["mysql://a:***@r1:3306", mysql://b:***@r2, "mysql://c@r3"]"#)
        #expect(Redaction.redact("mysql://a:${PW}@r1 mysql://b:x@r2", keepingReferences: true) == "mysql://a:${PW}@r1 mysql://b:***@r2")
        #expect(Redaction.redact("target: { mysql: 'mysql://app:it's@db/x' }") == "target: { mysql: 'mysql://app:***@db/x' }")
        #expect(Redaction.redact("host=db password=hunter2 user=x") == "host=db password=*** user=x")
    }

    @Test("a table target is journaled unless journal: off; a stored spec keeps its directory; one stored by an earlier version keeps that version's default (no journal)")
    func journalDefaultsAndStoredSpecs() throws {
        let table = """
            name: orders
            source: { sqlite: a.db, table: orders }
            target: { sqlite: b.db, table: orders }
            key: [id]
            """
        #expect(try parse(table).spec.journal.keep == JournalSpec.defaultKeep)
        #expect(try parse(table + "\njournal: off").spec.journal.isOn == false)
        #expect(try parse(table + "\njournal: { keep: 30d }").spec.journal.keep == 30 * 86_400)

        let stored = SpecLoader.storable(table, baseDirectory: "/srv/jobs")
        #expect(stored.hasPrefix("# backfill base-directory: /srv/jobs\n"))
        let reread = try SpecLoader.parseStored(stored, run: 1, environment: [:]).spec
        #expect(reread.baseDirectory == "/srv/jobs" && reread.journal.isOn)
        #expect(reread.resolve(path: "b.db") == "/srv/jobs/b.db")
        // A directory with a line break is not kept: it would end the comment.
        #expect(SpecLoader.storable(table, baseDirectory: "/srv/a\nb: c") == table)

        let earlier = SpecLoader.storable(table)
        #expect(try SpecLoader.parseStored(earlier, run: 1, environment: [:]).spec.journal.isOn == false)
        #expect(try SpecLoader.parseStored(earlier + "\njournal: on", run: 1, environment: [:]).spec.journal.isOn)
    }
}
