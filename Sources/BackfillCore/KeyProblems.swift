/// What every table source says when its key cannot be read reliably (`Source.checkKey`).
extension BackfillError {
    /// `count` rows of the source have a NULL in `key`.
    public static func nullKeys(_ count: Int, key: [String], location: String) -> BackfillError {
        BackfillError(
            .invalidInput,
            "\(count) source rows have a NULL key (\(key.joined(separator: ", "))); rows cannot be replayed by a NULL key: fix them or exclude them with range.where",
            location: location)
    }

    /// `count` values of `key` appear more than once; `listing` is a query that lists them.
    public static func duplicateKeys(_ count: Int, key: [String], listing: String, location: String) -> BackfillError {
        BackfillError(
            .invalidInput,
            "the key (\(key.joined(separator: ", "))) is not unique in the source: \(count) key values appear more than once; list them with \(listing)",
            location: location)
    }
}
