import BackfillCore

/// A place in a file where a record starts: its byte offset and the 1-based physical line there.
struct FilePosition: Sendable, Hashable {
    var offset: Int
    var line: Int

    init(offset: Int, line: Int) {
        self.offset = offset
        self.line = line
    }

    /// The position a file source's cursor points at.
    /// - Throws: `BackfillError` `.invalidInput` when the cursor carries no byte offset and line.
    init(cursor: Cursor, path: String) throws {
        guard let offset = cursor.byteOffset, let line = cursor.line, offset >= 0, line >= 1 else {
            throw BackfillError.foreignCursor(path)
        }
        self.init(offset: offset, line: line)
    }

    var cursor: Cursor { Cursor(byteOffset: offset, line: line) }
}
