/// The ids of events a consumer acknowledged, per job, kept in the state store: a rerun or a
/// resume never sends an acknowledged event again.
public protocol DeliveryLedger: Sendable {
    /// Which of `ids` were delivered before.
    func delivered(among ids: [String]) async throws -> Set<String>
    /// Records acknowledged events (recording one twice is harmless).
    func record(_ ids: [String]) async throws
}
