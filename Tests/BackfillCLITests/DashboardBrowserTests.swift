import BackfillTesting
import Foundation
import Testing

/// The dashboard in a real headless Chromium, against `backfill run --serve` on a rate-limited job.
///
/// `scripts/test.sh` installs Chromium and sets `BACKFILL_REQUIRE_BROWSER=1`, so there a missing
/// browser fails the test; a bare `swift test` without Chromium skips it.
@Suite(.timeLimit(.minutes(6)))
struct DashboardBrowserTests {
    static let required = ProcessInfo.processInfo.environment["BACKFILL_REQUIRE_BROWSER"] == "1"

    /// Where the screenshot goes: `BACKFILL_ARTIFACTS`, or `.build/artifacts` of the package.
    static var artifacts: URL {
        if let folder = ProcessInfo.processInfo.environment["BACKFILL_ARTIFACTS"] { return URL(fileURLWithPath: folder) }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".build/artifacts")
    }

    @Test(
        "the dashboard of `run --serve` loads without console errors, shows the run advancing, and its Pause button pauses the run in the state store",
        .enabled(if: HeadlessChromium.executable() != nil || required, "needs Chromium (scripts/test.sh installs it)"))
    func pauseFromTheDashboard() async throws {
        let chromium = try #require(HeadlessChromium.executable(), "Chromium is not installed (apt-get install chromium)")
        // 60,000 rows at 300 rows/s, with some rows refused by the target: the run cannot end (200 s,
        // beyond the suite's time limit) before the test pauses it, however long a loaded machine
        // keeps the test waiting (a CI run once starved it for over a minute); then the limit is lifted.
        let (dir, _) = try RunLifecycleTests.workspace(kind: .integer, rows: 60_000, extra: "limits: { rows-per-second: 300 }")
        try Fixtures.execute(path: dir + "/target.db", """
            DELETE FROM items WHERE id % 4 = 0;
            CREATE TRIGGER refuse BEFORE INSERT ON items WHEN NEW.id % 200 = 0 BEGIN SELECT RAISE(ABORT, 'target refuses this row'); END;
            """)
        let token = "dashboard-test-token"
        let (run, base) = try await ServeTests.start(
            ["run", "job.yaml", "--serve", "--port", "0"], in: dir, token: token, announcing: "dashboard: serving on ")
        defer { if run.isRunning { run.terminate() } }

        let browser = try HeadlessChromium(executable: chromium)
        let page = try await browser.newPage()
        do {
            try await page.navigate(base + "/?interval=300")
            try await page.waitFor("document.getElementById('status')?.textContent === 'running'")
            #expect(try await page.evaluate("document.getElementById('mutations-notice').hidden") as? Bool == true)
            // The progress bar advances while the page is open.
            try await page.waitFor("Number(document.getElementById('progress-bar').dataset.read) > 0")
            let first = try #require(try await page.evaluate("Number(document.getElementById('progress-bar').dataset.read)") as? Int)
            try await page.waitFor("Number(document.getElementById('progress-bar').dataset.read) > \(first)")
            try await page.waitFor("document.querySelectorAll('#rate-chart path.series').length === 1", timeout: .seconds(20))
            try await page.waitFor("document.querySelectorAll('#chunk-map div').length > 0")
            try await page.waitFor("document.querySelector('#quarantine td.mono') !== null", timeout: .seconds(20))

            // A few samples into the run (they come every 2 s), type the token and press Pause, as
            // an operator would.
            try await page.waitFor("Number(document.getElementById('progress-bar').dataset.read) >= 2500", timeout: .seconds(60))
            try await page.click("#token")
            try await page.type(token)
            try await page.click("#pause")
            try await page.waitFor("document.getElementById('status')?.textContent === 'paused'")
            #expect(try Fixtures.text(path: dir + "/.backfill/state.db", "SELECT status FROM runs WHERE id = 1") == "paused")
            #expect(try await page.evaluate("document.getElementById('resume').disabled") as? Bool == false)

            let png = try await page.screenshot()
            try FileManager.default.createDirectory(at: Self.artifacts, withIntermediateDirectories: true)
            let file = Self.artifacts.appendingPathComponent("dashboard.png")
            try png.write(to: file)
            print("dashboard screenshot: \(file.path)")
            #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]) && png.count > 10_000)
            #expect(page.consoleErrors() == [])
        } catch {
            await browser.close()
            throw error
        }

        // Without a token the same page says mutations are disabled and offers no buttons.
        let (serve, readOnly) = try await ServeTests.serve(in: dir, token: nil)
        defer { serve.terminate() }
        let second = try await browser.newPage()
        do {
            try await second.navigate(readOnly + "/")
            try await second.waitFor("document.getElementById('status')?.textContent === 'paused'")
            #expect(try await second.evaluate("document.getElementById('mutations-notice').hidden") as? Bool == false)
            #expect(try await second.evaluate("document.getElementById('resume').disabled") as? Bool == true)
            #expect(second.consoleErrors() == [])
        } catch {
            await browser.close()
            throw error
        }
        await browser.close()

        // The paused run goes on to the end once resumed (and the limit lifted): nothing lost on the way.
        let lifted = try await Binary.run(["set", "1", "rows-per-second=0"], in: dir)
        #expect(lifted.status == 0, "\(lifted.stderr)")
        let resumed = try await Binary.run(["resume", "1"], in: dir)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        await Binary.wait(run)
        // Completed, with the rows the target refused still in quarantine: exit 5.
        #expect(run.terminationStatus == 5, "exit \(run.terminationStatus)")
        let counters = try Fixtures.text(
            path: dir + "/.backfill/state.db", "SELECT read || ' ' || (inserted + updated + unchanged + skipped + quarantined) || ' ' || status FROM runs WHERE id = 1")
        #expect(counters == "60000 60000 completed")
    }
}
