/// Adapts the batch size to aim at a target batch duration (`batch.target-duration`), within
/// `[min, max]`: grows by a quarter while batches take under half the target, halves when one
/// takes over twice the target or fails with a timeout. Between those bands it holds still, so
/// a steady workload settles instead of oscillating.
public struct BatchSizer: Sendable {
    public private(set) var size: Int
    public let minimum: Int
    public let maximum: Int
    /// Seconds; `nil` keeps the size fixed.
    public let target: Double?

    public init(size: Int, minimum: Int, maximum: Int, target: Double?) {
        self.minimum = minimum
        self.maximum = max(minimum, maximum)
        self.size = Swift.min(Swift.max(size, minimum), self.maximum)
        self.target = target
    }

    /// The sizer a spec asks for: adaptive only when it names `batch.target-duration`.
    public init(spec: JobSpec) {
        self.init(
            size: spec.batch.size, minimum: spec.batch.min, maximum: spec.batch.max,
            target: spec.batch.adaptive ? spec.batch.targetDuration : nil)
    }

    /// Learns from a batch of `rows` rows that took `seconds`.
    public mutating func observe(rows: Int, seconds: Double) {
        guard let target, rows > 0 else { return }
        if seconds > 2 * target {
            size = Swift.max(minimum, size / 2)
        } else if seconds < target / 2, rows >= size {
            size = Swift.min(maximum, size + Swift.max(1, size / 4))
        }
    }

    /// The source or target asked for less load (a throttle, a timeout): halve, when adaptive.
    public mutating func backOff() {
        guard target != nil else { return }
        size = Swift.max(minimum, size / 2)
    }
}
