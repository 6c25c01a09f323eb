import Foundation
import Synchronization

/// A real headless Chromium driven over the Chrome DevTools Protocol, for browser tests of the
/// dashboard. It speaks CDP over `--remote-debugging-pipe` (JSON messages ended by a NUL byte on
/// file descriptors 3 and 4), so no WebSocket client and no debugging port are needed.
public final class HeadlessChromium: Sendable {
    /// `BACKFILL_CHROMIUM`, or the first of chromium, chromium-browser, google-chrome on `PATH`.
    public static func executable() -> String? {
        let environment = ProcessInfo.processInfo.environment
        if let path = environment["BACKFILL_CHROMIUM"], FileManager.default.isExecutableFile(atPath: path) { return path }
        let folders = (environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        for name in ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"] {
            for folder in folders where FileManager.default.isExecutableFile(atPath: "\(folder)/\(name)") {
                return "\(folder)/\(name)"
            }
        }
        return nil
    }

    private struct Inbox {
        var replies: [Int: Data] = [:]
        var events: [Data] = []
        var closed = false
    }

    private let pid: pid_t
    private let toBrowser: Int32
    private let profile: String
    private let inbox = Mutex(Inbox())
    private let nextID = Atomic<Int>(1)

    /// Starts Chromium with an empty profile; its own output goes to `profile/chromium.log`.
    public init(executable: String, windowSize: (width: Int, height: Int) = (1280, 1200)) throws {
        profile = try Fixtures.temporaryDirectory("chromium")
        let arguments = [
            executable, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
            "--no-default-browser-check", "--disable-extensions", "--hide-scrollbars", "--remote-debugging-pipe",
            "--user-data-dir=\(profile)", "--window-size=\(windowSize.width),\(windowSize.height)", "about:blank",
        ]
        // Ours: write to `commands`, read from `replies`. High, close-on-exec descriptors, so that
        // the dup2s below cannot clash with 3 and 4 and no other child inherits them.
        let commands = try Self.pipe(), replies = try Self.pipe()
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, profile + "/chromium.log", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        posix_spawn_file_actions_adddup2(&actions, commands.read, 3)
        posix_spawn_file_actions_adddup2(&actions, replies.write, 4)
        var child: pid_t = 0
        let argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let status = posix_spawn(&child, executable, &actions, nil, argv, environ)
        Glibc.close(commands.read)
        Glibc.close(replies.write)
        guard status == 0 else {
            Glibc.close(commands.write)
            Glibc.close(replies.read)
            throw FixtureError("cannot start \(executable): \(String(cString: strerror(status)))")
        }
        pid = child
        toBrowser = commands.write
        let reading = replies.read
        Thread.detachNewThread { [self] in readMessages(from: reading) }
    }

    private static func pipe() throws -> (read: Int32, write: Int32) {
        var fds: [Int32] = [0, 0]
        guard Glibc.pipe(&fds) == 0 else { throw FixtureError("pipe failed") }
        let high = fds.map { fd -> Int32 in
            let moved = fcntl(fd, F_DUPFD_CLOEXEC, 10)
            Glibc.close(fd)
            return moved
        }
        return (high[0], high[1])
    }

    /// Splits the browser's output into messages: replies by id, events in order.
    private func readMessages(from fd: Int32) {
        var pending = Data()
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = read(fd, &buffer, buffer.count)
            if count <= 0 { break }
            pending.append(contentsOf: buffer[0..<count])
            while let end = pending.firstIndex(of: 0) {
                let message = Data(pending[pending.startIndex..<end])
                pending = Data(pending[(end + 1)...])
                let id = ((try? JSONSerialization.jsonObject(with: message)) as? [String: Any])?["id"] as? Int
                inbox.withLock { inbox in
                    if let id { inbox.replies[id] = message } else { inbox.events.append(message) }
                }
            }
        }
        Glibc.close(fd)
        inbox.withLock { $0.closed = true }
    }

    /// Sends a CDP command (to a page when `session` is given) and returns its `result`.
    /// - Throws: when the browser answers with an error, closes, or does not answer in time.
    @discardableResult
    public func send(_ method: String, _ params: [String: Any] = [:], session: String? = nil, timeout: Duration = .seconds(30)) async throws -> [String: Any] {
        let id = nextID.add(1, ordering: .relaxed).oldValue
        var message: [String: Any] = ["id": id, "method": method, "params": params]
        if let session { message["sessionId"] = session }
        var bytes = [UInt8](try JSONSerialization.data(withJSONObject: message))
        bytes.append(0)
        var written = 0
        while written < bytes.count {
            let count = bytes[written...].withUnsafeBytes { write(toBrowser, $0.baseAddress, $0.count) }
            guard count > 0 else { throw FixtureError("chromium closed its command pipe (\(method))") }
            written += count
        }
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let (reply, closed) = inbox.withLock { inbox in (inbox.replies.removeValue(forKey: id), inbox.closed) }
            if let reply {
                let object = (try JSONSerialization.jsonObject(with: reply)) as? [String: Any] ?? [:]
                if let error = object["error"] as? [String: Any] {
                    throw FixtureError("\(method) failed: \(error["message"] as? String ?? "\(error)")")
                }
                return object["result"] as? [String: Any] ?? [:]
            }
            if closed { throw FixtureError("chromium exited before answering \(method)") }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw FixtureError("chromium did not answer \(method) within \(timeout)")
    }

    /// Every event received so far (`method`, `params`, `sessionId`).
    public func events() -> [[String: Any]] {
        inbox.withLock { $0.events }.compactMap { (try? JSONSerialization.jsonObject(with: $0)) as? [String: Any] }
    }

    /// Opens a new tab, attaches to it and enables the console, log and page domains.
    public func newPage() async throws -> BrowserPage {
        let target = try await send("Target.createTarget", ["url": "about:blank"])
        guard let targetID = target["targetId"] as? String else { throw FixtureError("no target id") }
        let attached = try await send("Target.attachToTarget", ["targetId": targetID, "flatten": true])
        guard let session = attached["sessionId"] as? String else { throw FixtureError("no session id") }
        let page = BrowserPage(browser: self, session: session)
        for domain in ["Runtime.enable", "Log.enable", "Page.enable"] { try await send(domain, session: session) }
        return page
    }

    /// Closes the browser and removes its profile; kills it if it does not exit within 5 s.
    public func close() async {
        _ = try? await send("Browser.close", timeout: .seconds(5))
        Glibc.close(toBrowser)
        var status: Int32 = 0
        for _ in 0..<100 {
            if waitpid(pid, &status, WNOHANG) == pid { break }
            try? await Task.sleep(for: .milliseconds(50))
        }
        if waitpid(pid, &status, WNOHANG) == 0 {
            kill(pid, SIGKILL)
            waitpid(pid, &status, 0)
        }
        try? FileManager.default.removeItem(atPath: profile)
    }
}

/// One tab of a `HeadlessChromium`.
public struct BrowserPage: Sendable {
    let browser: HeadlessChromium
    let session: String

    /// Loads `url` and waits until the document has loaded.
    public func navigate(_ url: String) async throws {
        try await browser.send("Page.navigate", ["url": url], session: session)
        try await waitFor("document.readyState === 'complete'", timeout: .seconds(30))
    }

    /// The value of a JavaScript expression (awaited when it is a promise).
    public func evaluate(_ expression: String) async throws -> Any? {
        let result = try await browser.send(
            "Runtime.evaluate", ["expression": expression, "returnByValue": true, "awaitPromise": true], session: session)
        if let exception = result["exceptionDetails"] as? [String: Any] {
            throw FixtureError("\(expression) threw: \((exception["exception"] as? [String: Any])?["description"] ?? exception["text"] ?? "")")
        }
        return (result["result"] as? [String: Any])?["value"]
    }

    /// Polls a JavaScript condition until it is true.
    public func waitFor(_ condition: String, timeout: Duration = .seconds(30)) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await evaluate("Boolean(\(condition))") as? Bool == true { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw FixtureError("\(condition) did not become true within \(timeout)")
    }

    /// Clicks the middle of the element `selector` names with real mouse events, as a user would.
    public func click(_ selector: String) async throws {
        let literal = String(decoding: try JSONSerialization.data(withJSONObject: [selector]), as: UTF8.self)
        guard let box = try await evaluate("""
            (() => { const e = document.querySelector(\(literal)[0]); if (!e) return null; e.scrollIntoView({block: 'center'});
              const r = e.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })()
            """) as? [Double], box.count == 2
        else { throw FixtureError("no element \(selector) to click") }
        for type in ["mousePressed", "mouseReleased"] {
            try await browser.send(
                "Input.dispatchMouseEvent", ["type": type, "x": box[0], "y": box[1], "button": "left", "clickCount": 1], session: session)
        }
    }

    /// Types `text` into the focused element.
    public func type(_ text: String) async throws {
        try await browser.send("Input.insertText", ["text": text], session: session)
    }

    /// A PNG of the whole page.
    public func screenshot() async throws -> Data {
        let result = try await browser.send("Page.captureScreenshot", ["format": "png", "captureBeyondViewport": true], session: session)
        guard let base64 = result["data"] as? String, let data = Data(base64Encoded: base64) else { throw FixtureError("no screenshot data") }
        return data
    }

    /// Console errors, uncaught exceptions and error log entries (failed loads among them) of this page.
    public func consoleErrors() -> [String] {
        browser.events().compactMap { event -> String? in
            guard event["sessionId"] as? String == session, let params = event["params"] as? [String: Any] else { return nil }
            switch event["method"] as? String {
            case "Runtime.consoleAPICalled" where ["error", "assert"].contains(params["type"] as? String):
                let arguments = (params["args"] as? [[String: Any]] ?? []).map { "\($0["value"] ?? $0["description"] ?? "")" }
                return "console.\(params["type"] ?? ""): " + arguments.joined(separator: " ")
            case "Runtime.exceptionThrown":
                let details = params["exceptionDetails"] as? [String: Any]
                return "exception: \((details?["exception"] as? [String: Any])?["description"] ?? details?["text"] ?? "")"
            case "Log.entryAdded":
                guard let entry = params["entry"] as? [String: Any], entry["level"] as? String == "error" else { return nil }
                return "log: \(entry["text"] ?? "") \(entry["url"] ?? "")"
            default:
                return nil
            }
        }
    }
}
