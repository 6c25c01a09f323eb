import AsyncHTTPClient
import BackfillCore
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// Replays events to an HTTP endpoint, each once from the receiver's point of view.
///
/// Every event is a `POST` of its columns as a JSON object with `Idempotency-Key: <event id>` and
/// `Backfill-Signature` (DESIGN's HTTP contract). At most `concurrency` requests are in flight;
/// events that share an order key go one at a time, in batch order, and different keys in
/// parallel; a batch ends when all its events are settled, so order holds across batches.
/// 2xx acknowledges an event (recorded in the ledger, so it is never sent again); 429 and 503 wait
/// for `Retry-After`; other 5xx, 408, timeouts and connection errors are retried with backoff;
/// any other 4xx refuses the event, which the runner then quarantines with the status and an
/// excerpt of the answer.
public struct WebhookSink: Sink {
    public let url: String
    let options: WebhookSpec
    let columns: [String]
    let idIndex: Int
    let orderKeyIndex: Int?
    let attempts: Int
    /// The base of the backoff between an event's attempts.
    public let backoff: Duration
    let ledger: (any DeliveryLedger)?
    let refused = RefusedEvents()
    /// Retried requests not yet reported in an outcome (those of a write that ended in a refusal).
    let retried: RetriedRequests
    /// Answers by status and retries per event, shared by the sink's copies.
    public let stats: DeliveryStats
    let client: HTTPClient
    let logger: Logger

    /// A sink for `url`; `configured(for:)` names the event's columns.
    /// - Parameters:
    ///   - client: sends the requests; its owner shuts it down (`WebhookSink.makeClient()` makes one
    ///     configured for event replay). The sink bounds concurrency itself.
    ///   - logger: where retries are logged (debug).
    public init(
        url: String, options: WebhookSpec, client: HTTPClient, logger: Logger, retries: Int = 8, backoff: Duration = .milliseconds(100)
    ) {
        self.init(
            url: url, options: options, columns: [], idIndex: 0, orderKeyIndex: nil, attempts: retries + 1, backoff: backoff, ledger: nil,
            client: client, logger: logger, retried: RetriedRequests(), stats: DeliveryStats())
    }

    private init(
        url: String, options: WebhookSpec, columns: [String], idIndex: Int, orderKeyIndex: Int?, attempts: Int, backoff: Duration,
        ledger: (any DeliveryLedger)?, client: HTTPClient, logger: Logger, retried: RetriedRequests, stats: DeliveryStats
    ) {
        self.retried = retried
        self.stats = stats
        self.url = url
        self.options = options
        self.columns = columns
        self.idIndex = idIndex
        self.orderKeyIndex = orderKeyIndex
        self.attempts = max(1, attempts)
        self.backoff = backoff
        self.ledger = ledger
        self.client = client
        self.logger = logger
    }

    /// The same sink sending the job's columns, finding ids and order keys by the job's `events:`.
    public func configured(for job: ResolvedJob) throws -> WebhookSink {
        guard let events = job.spec.events else { throw BackfillError(.invalidSpec, "a webhook target needs events:", location: "events") }
        func index(_ name: String, _ field: String) throws -> Int {
            guard let found = job.columns.firstIndex(where: { $0.caseInsensitiveCompare(name) == .orderedSame }) else {
                throw BackfillError(.invalidSpec, "column '\(name)' is not among the event's columns", location: field)
            }
            return found
        }
        return WebhookSink(
            url: url, options: options, columns: job.columns, idIndex: try index(events.id, "events.id"),
            orderKeyIndex: try events.orderKey.map { try index($0, "events.order-key") },
            attempts: job.spec.limits.retries + 1, backoff: .milliseconds(Int64(job.spec.limits.backoff * 1000)), ledger: ledger,
            client: client, logger: logger, retried: retried, stats: stats)
    }

    /// The same sink recording deliveries in `ledger` and skipping events it holds.
    public func recording(into ledger: any DeliveryLedger) -> WebhookSink {
        WebhookSink(
            url: url, options: options, columns: columns, idIndex: idIndex, orderKeyIndex: orderKeyIndex, attempts: attempts,
            backoff: backoff, ledger: ledger, client: client, logger: logger, retried: retried, stats: stats)
    }

    /// Where events go, without credentials.
    var location: String { Redaction.redact(url) }

    public func describe() async throws -> TableDescription { TableDescription(columns: []) }

    public func write(_ rows: [[Value]], keyOrdered: Bool, dryRun: Bool) async throws -> WriteOutcome {
        guard !rows.isEmpty else { return WriteOutcome() }
        let ids = rows.map { EventID.text($0[idIndex]) }
        let done = try await ledger?.delivered(among: ids) ?? []
        let pending = zip(rows, ids).filter { !done.contains($0.1) }
        if dryRun || pending.isEmpty { return WriteOutcome(inserted: pending.count, unchanged: rows.count - pending.count) }
        if pending.count == 1, let reason = await refused.reason(for: pending[0].1) {
            throw BackfillError(.writeFailed, kind: .data, reason, location: location)
        }
        let recorder = LedgerRecorder(ledger: ledger)
        let outcome: (delivered: Int, refused: Int)
        do {
            outcome = try await deliver(sequences: sequences(pending), recorder: recorder)
            try await recorder.flush()
        } catch {
            // Whatever was acknowledged stays acknowledged.
            try? await recorder.flush()
            throw error
        }
        if outcome.refused > 0 {
            // The runner splits the batch to quarantine exactly the refused events; the rest are
            // in the ledger by now and are not sent again.
            throw BackfillError(.writeFailed, kind: .data, "the receiver refused \(outcome.refused) of \(pending.count) events", location: location)
        }
        return WriteOutcome(inserted: outcome.delivered, unchanged: done.count, retries: await retried.take())
    }

    /// Events grouped by order key, each group in batch order; groups in order of first appearance.
    private func sequences(_ events: [([Value], String)]) -> [[([Value], String)]] {
        guard let orderKeyIndex else { return events.map { [$0] } }
        var groups: [[([Value], String)]] = []
        var position: [Value: Int] = [:]
        for event in events {
            let key = event.0[orderKeyIndex]
            if let at = position[key] {
                groups[at].append(event)
            } else {
                position[key] = groups.count
                groups.append([event])
            }
        }
        return groups
    }

    /// Delivers the sequences with at most `concurrency` requests in flight.
    private func deliver(sequences: [[([Value], String)]], recorder: LedgerRecorder) async throws -> (delivered: Int, refused: Int) {
        try await withThrowingTaskGroup(of: (Int, Int).self) { group in
            var iterator = sequences.makeIterator()
            var running = 0
            var delivered = 0
            var refusedCount = 0
            func startNext() -> Bool {
                guard let sequence = iterator.next() else { return false }
                group.addTask { try await self.deliver(sequence: sequence, recorder: recorder) }
                return true
            }
            while running < options.concurrency, startNext() { running += 1 }
            while let (ok, bad) = try await group.next() {
                delivered += ok
                refusedCount += bad
                if !startNext() { running -= 1 }
            }
            return (delivered, refusedCount)
        }
    }

    /// One order key's events, one at a time, in order.
    private func deliver(sequence: [([Value], String)], recorder: LedgerRecorder) async throws -> (Int, Int) {
        var delivered = 0
        var refusedCount = 0
        for (row, id) in sequence {
            switch try await deliver(row: row, id: id) {
            case .delivered:
                try await recorder.acknowledged(id)
                delivered += 1
            case .refused(let reason):
                await refused.remember(id, reason)
                refusedCount += 1
            }
        }
        return (delivered, refusedCount)
    }

    /// One event, retried until the receiver acknowledges or refuses it.
    private func deliver(row: [Value], id: String) async throws -> DeliveryResult {
        var last = ""
        for attempt in 0..<attempts {
            let outcome = await self.attempt(row, id: id)
            switch outcome {
            case .delivered:
                await settledInWrite(afterRetries: attempt)
                return .delivered
            case .refused(let reason):
                await settledInWrite(afterRetries: attempt)
                return .refused(reason)
            case .failed(let reason, _, _), .unanswered(let reason):
                try Task.checkCancellation()
                last = reason
                guard attempt + 1 < attempts else { break }
                logger.debug("retrying an event", metadata: ["backfill.event": .string(id), "backfill.reason": .string(reason)])
                try await Task.sleep(for: outcome.retryAfter ?? Backoff.jittered(base: backoff, attempt: attempt + 1))
            }
        }
        await retried.add(attempts - 1)
        throw BackfillError(
            .unavailable, kind: .transient, "event \(id) was not acknowledged after \(attempts) attempts (last: \(last))", location: location)
    }

    /// An event answered for good (by a write) after `retries` retried requests: counted for the
    /// run's retries and the retry histogram.
    private func settledInWrite(afterRetries retries: Int) async {
        await retried.add(retries)
        await settled(afterRetries: retries)
    }

    private func request(body: [UInt8], id: String) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "backfill")
        request.headers.add(name: "Idempotency-Key", value: id)
        if let secret = options.secret {
            request.headers.add(
                name: "Backfill-Signature", value: WebhookSignature.header(secret: secret, timestamp: Int(Date().timeIntervalSince1970), body: body))
        }
        for (name, value) in options.headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: body))
        return request
    }

    private static func excerpt(_ buffer: ByteBuffer) -> String {
        let text = String(buffer: buffer).replacingOccurrences(of: "\n", with: " ")
        return text.count > 200 ? String(text.prefix(200)) + "…" : text
    }
}

extension WebhookSink: EventDeliverer {
    public var endpoint: String { location }
    public var concurrency: Int { options.concurrency }
    public var attemptsPerRound: Int { attempts }

    public func eventID(of row: [Value]) -> String { EventID.text(row[idIndex]) }

    public func orderKey(of row: [Value]) -> Value? { orderKeyIndex.map { row[$0] } }

    public func delivered(among ids: [String]) async throws -> Set<String> { try await ledger?.delivered(among: ids) ?? [] }

    public func record(_ ids: [String]) async throws { try await ledger?.record(ids) }

    /// One `POST` of the event. 2xx delivers it; 429 and 503 ask for a wait (`Retry-After`) and
    /// fewer requests; other 5xx and 408 are worth another try, as no answer is; any other 4xx
    /// refuses the event for good.
    public func attempt(_ row: [Value], id: String) async -> DeliveryAttempt {
        let body = EventJSON.encode(columns: columns, row: row)
        do {
            let response = try await client.execute(request(body: body, id: id), timeout: .milliseconds(Int64(options.timeout * 1000)))
            let status = Int(response.status.code)
            await stats.answered(status)
            // Read to its end, so the connection serves the next request; an answer longer than
            // 64 KiB is an answer all the same, its excerpt left out.
            let answer = (try? await response.body.collect(upTo: 64 * 1024)) ?? ByteBuffer()
            switch status {
            case 200..<300:
                return .delivered
            case 429, 503:
                return .failed(reason: "HTTP \(status)", retryAfter: RetryAfter.delay(response.headers.first(name: "Retry-After")), overloaded: true)
            case 408, 500..<600:
                return .failed(reason: "HTTP \(status)", retryAfter: nil, overloaded: false)
            default:
                return .refused(reason: "the receiver refused the event: HTTP \(status): \(Self.excerpt(answer))")
            }
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout {
            await stats.answered(0)
            return .unanswered(reason: "no answer within \(options.timeout) s")
        } catch is CancellationError {
            return .unanswered(reason: "cancelled")
        } catch {
            await stats.answered(0)
            return .unanswered(reason: "connection failed (\(type(of: error)))")
        }
    }

    public func settled(afterRetries retries: Int) async { await stats.settled(afterRetries: retries) }
}

extension WebhookSink {
    /// An HTTP client for event replay: many connections per host (the sink bounds concurrency),
    /// no redirects followed. The caller shuts it down (`HTTPClient.shutdown()`) when done.
    public static func makeClient() -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 1024
        configuration.redirectConfiguration = .disallow
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }
}
