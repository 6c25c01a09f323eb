/// The ids of events a consumer acknowledged, per job, kept in the state store: a rerun or a
/// resume never sends an acknowledged event again.
public protocol DeliveryLedger: Sendable {
    /// Which of `ids` were delivered before.
    func delivered(among ids: [String]) async throws -> Set<String>
    /// Records acknowledged events (recording one twice is harmless).
    func record(_ ids: [String]) async throws
    /// Up to `limit` delivered ids after `id` (from the first when `nil`), in byte order: every
    /// delivery of the job, a page at a time (`verify` of an events job).
    func ids(after id: String?, limit: Int) async throws -> [String]
}

extension DeliveryLedger {
    /// Every delivered id of the job, read a page at a time.
    public func allIDs(pageSize: Int = 10_000) async throws -> Set<String> {
        var all: Set<String> = []
        var after: String?
        while true {
            let page = try await ids(after: after, limit: pageSize)
            all.formUnion(page)
            guard page.count == pageSize, let last = page.last else { return all }
            after = last
        }
    }
}
