import BackfillCore
import BackfillFiles
import Testing

@Suite(.timeLimit(.minutes(1))) struct CSVCursorTests {
    /// Ten records: embedded newlines, CRLF, a blank line, a malformed record and no final line break.
    static let tenRecords = """
        id,name,note
        1,a,x
        2,"b
        b",y\r
        3,c,z

        4,"d,d",""
        5,broken
        6,f,"multi
        line
        note"
        7,g,
        8,h,"q""q"
        9,i,j\r
        10,j,k
        """

    @Test func readingInBatchesOfThreeReturnsExactlyWhatOneFullReadReturns() async throws {
        try await withTemporaryFile(Self.tenRecords) { path async throws in
            let source = CSVSource(path: path, columns: ["id", "name", "note"])
            let full = try await source.read(chunk: .all, after: nil, limit: 1_000)
            #expect(full.isLast)
            #expect(full.rows.count == 9)
            #expect(full.rejected.map(\.line) == [8])
            let batched = try await readAll(source, batchSize: 3)
            #expect(batched.rows == full.rows)
            #expect(batched.lines == full.lines)
            #expect(batched.rejected == full.rejected)
            #expect(batched.batches.count == 4)
            #expect(batched.batches.allSatisfy { $0.recordCount <= 3 })
            #expect(batched.batches.last?.cursor == full.cursor)
        }
    }

    @Test func resumingFromAnyCursorReturnsExactlyTheRemainingRows() async throws {
        try await withTemporaryFile(Self.tenRecords) { path async throws in
            let source = CSVSource(path: path, columns: ["id", "name", "note"])
            let full = try await source.read(chunk: .all, after: nil, limit: 1_000)
            var cursor: Cursor?
            var consumed = 0
            while true {
                let batch = try await source.read(chunk: .all, after: cursor, limit: 1)
                consumed += batch.rows.count
                cursor = batch.cursor
                if batch.isLast { break }
                let rest = try await readAll(source, batchSize: 1_000, from: cursor)
                #expect(rest.rows == Array(full.rows[consumed...]))
                #expect(rest.lines == Array((full.lines ?? [])[consumed...]))
            }
        }
    }

    @Test func cursorHoldsTheOffsetAfterTheLastRecordAndTheLineOfTheNext() async throws {
        let csv = "id\r\n1\r\n\"2\n2\"\r\n3\r\n"
        try await withTemporaryFile(csv) { path async throws in
            let source = CSVSource(path: path, columns: ["id"])
            let first = try await source.read(chunk: .all, after: nil, limit: 2)
            #expect(first.rows == [texts("1"), texts("2\n2")])
            #expect(first.cursor == Cursor(byteOffset: 14, line: 5))
            #expect(!first.isLast)
            let second = try await source.read(chunk: .all, after: first.cursor, limit: 2)
            #expect(second.rows == [texts("3")])
            #expect(second.lines == [5])
            #expect(second.cursor == Cursor(byteOffset: 17, line: 6))
            #expect(second.isLast)
        }
    }

    @Test func batchEndingExactlyAtTheEndOfTheFileIsTheLast() async throws {
        try await withTemporaryFile("id\n1\n2\n\n") { path async throws in
            let batch = try await CSVSource(path: path, columns: ["id"]).read(chunk: .all, after: nil, limit: 2)
            #expect(batch.rows.count == 2)
            #expect(batch.isLast)
        }
    }

    @Test(arguments: [1, 2, 5, 7])
    func rowsAndRejectedRecordsTogetherNeverExceedTheLimit(limit: Int) async throws {
        let csv = "a,b\n1,x\nbad\n2,y\nbad\nbad\n3,z\n4,w\nbad\n"
        try await withTemporaryFile(csv) { path async throws in
            let result = try await readAll(CSVSource(path: path, columns: ["a", "b"]), batchSize: limit)
            #expect(result.batches.allSatisfy { $0.recordCount <= limit })
            #expect(result.batches.dropLast().allSatisfy { $0.recordCount == limit })
            #expect(result.rows.count == 4)
            #expect(result.rejected.map(\.line) == [3, 5, 6, 9])
        }
    }

    @Test func recordsSpanningReadBlocksAreReadWhole() async throws {
        // About 2 MB: many 256 KiB blocks, with quoted newlines and doubled quotes falling on their edges.
        var csv = "id,note,amount\n"
        var expected: [[Value]] = []
        for id in 0..<20_000 {
            let note = id % 3 == 0 ? "line one\nline \"\(id)\"" : "plain note number \(id) with some padding"
            let quoted = "\"" + note.replacingOccurrences(of: "\"", with: "\"\"") + "\""
            csv += "\(id),\(quoted),\(id * 7)\(id % 2 == 0 ? "\r\n" : "\n")"
            expected.append(texts(String(id), note, String(id * 7)))
        }
        try await withTemporaryFile(csv) { path async throws in
            let result = try await readAll(CSVSource(path: path, columns: ["id", "note", "amount"]), batchSize: 997)
            #expect(result.rejected.isEmpty)
            #expect(result.rows == expected)
            let linesOfMultilineNotes = 19_999 / 3 + 1
            #expect(result.lines.last == 2 + 19_999 + linesOfMultilineNotes)
        }
    }

    @Test func cursorPastTheEndOfTheFileIsRefused() async throws {
        try await withTemporaryFile("id\n1\n") { path async throws in
            let source = CSVSource(path: path, columns: ["id"])
            let error = await #expect(throws: BackfillError.self) {
                try await source.read(chunk: .all, after: Cursor(byteOffset: 1_000, line: 3), limit: 10)
            }
            #expect(error?.code == .invalidInput)
            #expect(error?.message.contains("past the end of the file") == true)
        }
    }

    @Test func cursorWithoutByteOffsetIsRefused() async throws {
        try await withTemporaryFile("id\n1\n") { path async throws in
            let source = CSVSource(path: path, columns: ["id"])
            let error = await #expect(throws: BackfillError.self) {
                try await source.read(chunk: .all, after: Cursor(key: [.integer(1)]), limit: 10)
            }
            #expect(error?.code == .invalidInput)
        }
    }
}
