import BackfillCore
import Testing

/// A job whose target is its own source is refused at load (`validate`), naming the target.
@Suite struct SameTableSpecTests {
    func problems(_ source: String, _ target: String) -> [SpecProblem] {
        let yaml = "name: j\nsource: \(source)\ntarget: \(target)\nkey: [id]\n"
        do {
            _ = try SpecLoader.parse(yaml: yaml, file: "job.yaml", baseDirectory: "/work", environment: [:])
            return []
        } catch let error as SpecProblems {
            return error.problems
        } catch {
            Issue.record("unexpected \(error)")
            return []
        }
    }

    @Test(arguments: [
        ("{ sqlite: data/a.db, table: orders }", "{ sqlite: ./data/../data/a.db, table: orders }"),
        ("{ sqlite: /work/a.db, table: orders }", "{ sqlite: a.db, table: main.orders }"),
        ("{ postgres: 'postgres://u:pw@localhost:5432/app', table: orders }", "{ postgres: 'postgres://other@127.0.0.1/app?connect-timeout=3', table: public.orders }"),
        ("{ mysql: 'mysql://u:pw@localhost:3306/shop', table: orders }", "{ mysql: 'mysql://other@127.0.0.1/shop?ssl-mode=disabled', table: orders }"),
    ])
    func sameTableIsRefused(source: String, target: String) {
        let found = problems(source, target)
        #expect(found.contains { $0.field == "target" && $0.message.contains("the target is the source itself") }, "\(found)")
    }

    @Test(arguments: [
        ("{ sqlite: a.db, table: orders }", "{ sqlite: b.db, table: orders }"),
        ("{ sqlite: a.db, table: orders }", "{ sqlite: a.db, table: orders_copy }"),
        ("{ postgres: 'postgres://localhost/app', table: orders }", "{ postgres: 'postgres://localhost/app2', table: orders }"),
        ("{ postgres: 'postgres://localhost:5432/app', table: orders }", "{ postgres: 'postgres://localhost:5433/app', table: orders }"),
        ("{ postgres: 'postgres://localhost/app', table: orders }", "{ postgres: 'postgres://localhost/app', table: archive.orders }"),
        ("{ mysql: 'mysql://localhost/shop', table: orders }", "{ mysql: 'mysql://localhost/shop2', table: orders }"),
        ("{ mysql: 'mysql://localhost/shop', table: orders }", "{ postgres: 'postgres://localhost/shop', table: orders }"),
    ])
    func differentTablesAreFine(source: String, target: String) {
        #expect(problems(source, target).isEmpty)
    }
}
