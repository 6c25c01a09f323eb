/// What became of one event.
enum DeliveryResult: Sendable {
    /// The receiver answered 2xx.
    case delivered
    /// The receiver refused it for good (a 4xx other than 408 and 429): status and a body excerpt.
    case refused(String)
}
