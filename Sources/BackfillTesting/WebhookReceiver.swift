import BackfillCore
import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A webhook receiver on 127.0.0.1, for tests and benchmarks: it checks every
/// `Backfill-Signature`, processes each `Idempotency-Key` once (later deliveries of a processed
/// key are answered 200 and counted as redeliveries), records the order events of each order key
/// were processed in, and injects faults.
public final class WebhookReceiver: Sendable {
    /// Faults to inject.
    public struct Faults: Sendable {
        /// Share of requests answered 500, at random.
        public var failureRate = 0.0
        /// Every n-th request is answered 429 with `Retry-After: retryAfter` (0: never).
        public var throttleEvery = 0
        public var retryAfter = 1
        /// Every n-th request is processed, then answered after `slowDelay` (0: never).
        public var slowEvery = 0
        public var slowDelay: Duration = .seconds(2)
        /// Event ids answered 422 (refused for good).
        public var refuse: Set<String> = []
        /// The receiver goes down (`goDown`) at this request and comes up `outage` later (0: never).
        public var outageAt = 0
        public var outage: Duration = .seconds(3)

        public init() {}
    }

    /// What the receiver saw.
    public struct Tally: Sendable {
        /// Event ids in the order they were processed (each once).
        public var processed: [String] = []
        /// Deliveries of ids already processed (answered 200 again, not processed again).
        public var redeliveries = 0
        /// Requests with a missing or wrong signature (answered 401).
        public var badSignatures = 0
        public var requests = 0
        /// Connections closed unanswered because the receiver was down.
        public var refusedWhileDown = 0
        /// Per order key, the sequence numbers in the order they were processed.
        public var sequences: [String: [Int]] = [:]
    }

    /// The port it listens on (kept across `goDown` and `comeUp`).
    public var port: Int { state.withLock { $0.port } }
    private let secret: String?
    private let faults: Faults
    private let orderField: String?
    private let sequenceField: String?
    private let state = Mutex(State())

    private struct State {
        var tally = Tally()
        var seen: Set<String> = []
        var port = 0
        var down = false
        var listener: (any Channel)?
        var connections: [ObjectIdentifier: any Channel] = [:]
        /// Order keys whose events are answered 429 (`holdBack`).
        var heldBack: Set<String> = []
        /// Once this many events are processed, answers come this late (`answerLate`).
        var late: (after: Int, delay: Duration)?
    }

    /// Starts a receiver on a free port of 127.0.0.1.
    /// - Parameters:
    ///   - orderField, sequenceField: body members holding each event's order key and its
    ///     position within that key, to record the order events were processed in.
    public static func start(
        secret: String?, faults: Faults = Faults(), orderField: String? = nil, sequenceField: String? = nil
    ) async throws -> WebhookReceiver {
        let receiver = WebhookReceiver(secret: secret, faults: faults, orderField: orderField, sequenceField: sequenceField)
        // Port 0: the kernel picks a free port, held from the start (a probed port could be taken
        // by another test between probe and bind).
        try await receiver.listen()
        return receiver
    }

    private init(secret: String?, faults: Faults, orderField: String?, sequenceField: String?) {
        self.secret = secret
        self.faults = faults
        self.orderField = orderField
        self.sequenceField = sequenceField
    }

    public var url: String { "http://127.0.0.1:\(port)/events" }

    public var tally: Tally { state.withLock { $0.tally } }

    /// Drops every open connection and closes each new one at once, unanswered: deliveries fail
    /// until `comeUp`. (The port stays bound, so no other process can take it meanwhile.)
    public func goDown() async {
        let connections = state.withLock { state in
            state.down = true
            return Array(state.connections.values)
        }
        for connection in connections { try? await connection.close() }
    }

    /// Answers every event of `orderKey` 429 with `Retry-After` until `letThrough` (needs the
    /// receiver's `orderField`).
    public func holdBack(orderKey: String) { state.withLock { _ = $0.heldBack.insert(orderKey) } }

    /// Once `count` events are processed, processes each new one at once but answers it only
    /// after `delay` (`nil`: answer at once again) — requests stay in flight meanwhile.
    public func answerLate(by delay: Duration?, afterProcessing count: Int = 0) {
        state.withLock { $0.late = delay.map { (count, $0) } }
    }

    /// Takes `orderKey`'s events again.
    public func letThrough(orderKey: String) { state.withLock { _ = $0.heldBack.remove(orderKey) } }

    /// Answers again.
    public func comeUp() async throws {
        state.withLock { $0.down = false }
    }

    /// Stops listening for good.
    public func stop() async {
        await goDown()
        let listener = state.withLock { $0.listener }
        try? await listener?.close()
    }

    private func listen() async throws {
        let listener = try await Self.bind(port: 0, receiver: self)
        let bound = listener.localAddress?.port ?? 0
        state.withLock { state in
            state.listener = listener
            state.port = bound
        }
    }

    private static func bind(port: Int, receiver: WebhookReceiver?) async throws -> any Channel {
        try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 512)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    if let receiver {
                        receiver.opened(channel)
                        try channel.pipeline.syncOperations.addHandler(ReceiverHandler(receiver: receiver))
                    }
                }
            }
            .bind(host: "127.0.0.1", port: port).get()
    }

    private func opened(_ channel: any Channel) {
        let down = state.withLock { state in
            if !state.down { state.connections[ObjectIdentifier(channel)] = channel } else { state.tally.refusedWhileDown += 1 }
            return state.down
        }
        if down {
            channel.close(promise: nil)
            return
        }
        channel.closeFuture.whenComplete { [self] _ in _ = state.withLock { $0.connections.removeValue(forKey: ObjectIdentifier(channel)) } }
    }

    /// The answer to one request: status, extra headers, and a delay before answering.
    fileprivate func handle(_ head: HTTPRequestHead, body: [UInt8]) -> (HTTPResponseStatus, [(String, String)], Duration) {
        let id = head.headers.first(name: "Idempotency-Key") ?? ""
        return state.withLock { state in
            state.tally.requests += 1
            let n = state.tally.requests
            if let secret {
                guard let signature = head.headers.first(name: "Backfill-Signature"), Self.verify(signature, secret: secret, body: body) else {
                    state.tally.badSignatures += 1
                    return (.unauthorized, [], .zero)
                }
            }
            if state.seen.contains(id) {
                state.tally.redeliveries += 1
                return (.ok, [], .zero)
            }
            if faults.outageAt > 0, n == faults.outageAt {
                let outage = faults.outage
                Task {
                    await self.goDown()
                    try? await Task.sleep(for: outage)
                    try? await self.comeUp()
                }
                return (.serviceUnavailable, [], .zero)
            }
            if faults.refuse.contains(id) { return (.unprocessableEntity, [], .zero) }
            let tooMany: (HTTPResponseStatus, [(String, String)], Duration) = (.tooManyRequests, [("Retry-After", String(faults.retryAfter))], .zero)
            if faults.throttleEvery > 0, n % faults.throttleEvery == 0 { return tooMany }
            if faults.failureRate > 0, Double.random(in: 0..<1) < faults.failureRate { return (.internalServerError, [], .zero) }
            var ordered: (key: String, sequence: Int)?
            if let orderField, let sequenceField,
                let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
                let key = object[orderField].map({ "\($0)" }), let sequence = (object[sequenceField] as? NSNumber)?.intValue
            {
                if state.heldBack.contains(key) { return tooMany }
                ordered = (key, sequence)
            }
            state.seen.insert(id)
            state.tally.processed.append(id)
            if let ordered { state.tally.sequences[ordered.key, default: []].append(ordered.sequence) }
            if let late = state.late, state.tally.processed.count > late.after { return (.ok, [], late.delay) }
            if faults.slowEvery > 0, n % faults.slowEvery == 0 { return (.ok, [], faults.slowDelay) }
            return (.ok, [], .zero)
        }
    }

    /// `t=…,v1=…`: HMAC-SHA256 of "<t>.<body>" under the secret, in hex. Written here from DESIGN's
    /// contract rather than calling `WebhookSignature`, so that the tests check the signer against
    /// the contract, not against itself.
    static func verify(_ header: String, secret: String, body: [UInt8]) -> Bool {
        let parts = Dictionary(header.split(separator: ",").compactMap { part -> (String, String)? in
            let pair = part.split(separator: "=", maxSplits: 1)
            return pair.count == 2 ? (String(pair[0]), String(pair[1])) : nil
        }, uniquingKeysWith: { first, _ in first })
        guard let t = parts["t"], let v1 = parts["v1"] else { return false }
        let code = HMAC<SHA256>.authenticationCode(for: Array("\(t).".utf8) + body, using: SymmetricKey(data: Array(secret.utf8)))
        return Hex.encode(code) == v1
    }
}

private final class ReceiverHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let receiver: WebhookReceiver
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []

    init(receiver: WebhookReceiver) { self.receiver = receiver }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body = []
        case .body(let buffer):
            body += buffer.readableBytesView
        case .end:
            guard let head else { return }
            let (status, extra, delay) = receiver.handle(head, body: body)
            let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
            let keepAlive = head.isKeepAlive
            let respond = {
                let context = bound.value
                var headers = HTTPHeaders([("Content-Length", "0")])
                for (name, value) in extra { headers.add(name: name, value: value) }
                if !keepAlive { headers.add(name: "Connection", value: "close") }
                context.write(NIOAny(HTTPServerResponsePart.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
                context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil)), promise: nil)
                if !keepAlive { context.close(promise: nil) }
            }
            if delay > .zero {
                context.eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(Int64(delay.inSeconds * 1000))) { respond() }
            } else {
                respond()
            }
        }
    }
}
