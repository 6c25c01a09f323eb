import BackfillCore
import BackfillFiles
import Testing

@Suite(.timeLimit(.minutes(1))) struct CSVMalformedRecordTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        /// The malformed record(s), placed on line 3 after a good record on line 2.
        var bad: String
        var reason: String
        var raw: String
        /// Lines the malformed record spans.
        var lines = 1
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "too few fields", bad: "2,b\n", reason: "expected 3 fields, found 2", raw: "2,b"),
        Case(name: "too many fields", bad: "2,b,c,d\r\n", reason: "expected 3 fields, found 4", raw: "2,b,c,d"),
        Case(
            name: "quote inside unquoted field", bad: "2,ab\"c,d\n", reason: "field 2: quote inside an unquoted field",
            raw: "2,ab\"c,d"),
        Case(
            name: "characters after closing quote", bad: "2,\"ab\"c,d\n",
            reason: "field 2: characters after the closing quote", raw: "2,\"ab\"c,d"),
        Case(
            name: "quote error resynchronises at the end of its physical line",
            bad: "2,\"multi\nline\"x,\"opens\n", reason: "field 2: characters after the closing quote",
            raw: "2,\"multi\nline\"x,\"opens", lines: 2),
    ]

    @Test(arguments: cases)
    func malformedRecordIsRejectedWithItsLineAndTheFollowingRowsAreStillRead(_ test: Case) async throws {
        let csv = "id,name,note\n1,a,x\n" + test.bad + "4,d,y\n5,\"e\",z"
        let batch = try await withTemporaryFile(csv) { path async throws in
            try await CSVSource(path: path, columns: ["id", "name", "note"]).read(chunk: .all, after: nil, limit: 10)
        }
        #expect(batch.rows == [texts("1", "a", "x"), texts("4", "d", "y"), texts("5", "e", "z")])
        #expect(batch.lines == [2, 3 + test.lines, 4 + test.lines])
        let rejected = try #require(batch.rejected.first)
        #expect(batch.rejected.count == 1)
        #expect(rejected.line == 3)
        #expect(rejected.reason.hasPrefix(test.reason), "\(rejected.reason)")
        #expect(rejected.raw == test.raw)
        #expect(rejected.key == nil)
        #expect(batch.isLast)
    }

    @Test func unterminatedQuoteAtEndOfFileIsRejectedAndTheLinesAfterItAreReadAgain() async throws {
        let csv = "id,name\n1,a\n2,\"never closed\n3,c\n4,d\n"
        let batch = try await withTemporaryFile(csv) { path async throws in
            try await CSVSource(path: path, columns: ["id", "name"]).read(chunk: .all, after: nil, limit: 10)
        }
        #expect(batch.rows == [texts("1", "a"), texts("3", "c"), texts("4", "d")])
        #expect(batch.lines == [2, 4, 5])
        #expect(batch.rejected.map(\.line) == [3])
        #expect(batch.rejected.first?.reason == "field 2: quoted field has no closing quote")
        #expect(batch.rejected.first?.raw == "2,\"never closed")
        #expect(batch.isLast)
    }

    @Test func invalidUTF8InAWantedColumnIsRejectedNamingTheColumn() async throws {
        let bytes = Array("id,name\n1,a\n2,".utf8) + [0xC3, 0x28] + Array("\n3,c\n".utf8)
        let batch = try await withTemporaryFile(bytes: bytes) { path async throws in
            try await CSVSource(path: path, columns: ["id", "name"]).read(chunk: .all, after: nil, limit: 10)
        }
        #expect(batch.rows == [texts("1", "a"), texts("3", "c")])
        #expect(batch.rejected.map(\.line) == [3])
        #expect(batch.rejected.first?.reason == "column 'name': value is not valid UTF-8")
    }

    @Test func rawTextOfARejectedRecordIsCutToOneThousandCharacters() async throws {
        let long = String(repeating: "x", count: 5_000)
        let batch = try await withTemporaryFile("a,b\n\(long)\n") { path async throws in
            try await CSVSource(path: path, columns: ["a", "b"]).read(chunk: .all, after: nil, limit: 10)
        }
        #expect(batch.rejected.first?.raw?.count == 1_000)
    }

    @Test func recordLongerThanTheLimitIsRejectedAndReadingResumesOnTheNextLine() async throws {
        let huge = String(repeating: "y", count: 600_000)
        let csv = "id,name\n1,a\n2,\"\(huge)\n3,c\n4,\(huge)\n5,e\n"
        let batch = try await withTemporaryFile(csv) { path async throws in
            var source = CSVSource(path: path, columns: ["id", "name"])
            source.maxRecordBytes = 300_000
            return try await source.read(chunk: .all, after: nil, limit: 10)
        }
        #expect(batch.rows == [texts("1", "a"), texts("3", "c"), texts("5", "e")])
        #expect(batch.lines == [2, 4, 6])
        #expect(batch.rejected.map(\.line) == [3, 5])
        #expect(batch.rejected.allSatisfy { $0.reason.hasPrefix("record is longer than 300000 bytes") })
        #expect(batch.rejected.allSatisfy { $0.raw?.count == 1_000 })
    }
}
