import BackfillCore

/// The errors file sources throw, worded once so CSV and JSONL say the same thing.
extension BackfillError {
    /// `format` is the file's kind as users name it: `CSV`, `JSONL`.
    static func cannotOpen(_ path: String, format: String) -> BackfillError {
        BackfillError(.invalidInput, "cannot open \(format) file (does it exist?)", location: path)
    }

    static func cannotRead(_ path: String, underlying: any Error) -> BackfillError {
        BackfillError(
            .invalidInput, "cannot read the file; check it is a readable regular file", location: path,
            underlying: underlying)
    }

    static func cursorPastEnd(_ path: String) -> BackfillError {
        BackfillError(
            .invalidInput,
            "the checkpoint lies past the end of the file: the file was truncated or replaced since the run started; start a new run",
            location: path)
    }

    static func foreignCursor(_ path: String) -> BackfillError {
        BackfillError(
            .invalidInput,
            "the checkpoint has no byte offset and line, so it was not written by a file source; start a new run",
            location: path)
    }

    static func missingColumn(_ column: String, in path: String, available: [String]) -> BackfillError {
        let names = available.prefix(12).joined(separator: ", ")
        return BackfillError(
            .invalidInput, "column '\(column)' is not in the file (it has: \(names)); fix the spec's columns",
            location: path)
    }
}
