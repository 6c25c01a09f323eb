import BackfillCore
import BackfillFiles
import Foundation
import Testing

@Suite(.timeLimit(.minutes(1))) struct JSONLSourceTests {
    private func readOne(_ line: String, columns: [String]) async throws -> SourceBatch {
        try await withTemporaryFile(line + "\n", extension: "jsonl") { path async throws in
            try await JSONLSource(path: path, columns: columns).read(chunk: .all, after: nil, limit: 10)
        }
    }

    @Test func numbersKeepTheKindTheyAreWrittenIn() async throws {
        let line =
            #"{"a": 3, "b": 3.0, "c": 3.5, "d": 9007199254740993, "e": -9223372036854775808, "f": 1e3, "g": -0.25E-2}"#
        let batch = try await readOne(line, columns: ["a", "b", "c", "d", "e", "f", "g"])
        #expect(
            batch.rows == [
                [
                    .integer(3), .real(3.0), .real(3.5), .integer(9_007_199_254_740_993), .integer(Int64.min),
                    .real(1000),
                    .real(-0.0025),
                ]
            ])
    }

    @Test func numbersBeyondInt64OrDoubleKeepTheirDigitsAsText() async throws {
        let batch = try await readOne(#"{"big": 99999999999999999999, "huge": 1e400}"#, columns: ["big", "huge"])
        #expect(batch.rows == [texts("99999999999999999999", "1e400")])
    }

    @Test func stringsBooleansNullsAndMissingKeysMapToValues() async throws {
        let line = #"{"s": "caf\u00e9 \ud83d\ude00 \"q\" \\ \/ \n", "t": true, "f": false, "n": null, "plain": "é"}"#
        let batch = try await readOne(line, columns: ["s", "t", "f", "n", "missing", "plain"])
        #expect(batch.rows == [[.text("café 😀 \"q\" \\ / \n"), .integer(1), .integer(0), .null, .null, .text("é")]])
    }

    @Test func nestedObjectsAndArraysBecomeTheirCompactJSONText() async throws {
        let line = #"{"id": 1, "tags": [ "a", "b c" , {"k" : [1, 2.5, null]} ], "meta": { "z": "x y", "a": {} }}"#
        let batch = try await readOne(line, columns: ["tags", "meta"])
        #expect(batch.rows == [texts(#"["a","b c",{"k":[1,2.5,null]}]"#, #"{"z":"x y","a":{}}"#)])
    }

    @Test func keysMatchColumnsExactlyFirstThenIgnoringCase() async throws {
        let batch = try await readOne(#"{"ID": 7, "Name": "x", "name": "exact"}"#, columns: ["id", "name"])
        #expect(batch.rows == [[.integer(7), .text("exact")]])
    }

    @Test func describeReturnsTheUnionOfKeysInOrderOfFirstAppearance() async throws {
        let jsonl = "\n{\"id\": 1, \"name\": \"a\"}\nnot json\n{\"id\": 2, \"total\": 3, \"Name\": \"b\"}\n"
        try await withTemporaryFile(jsonl, extension: "jsonl") { path async throws in
            let source = JSONLSource(path: path, columns: nil)
            let table = try await source.describe()
            #expect(table.columns.map(\.name) == ["id", "name", "total"])
            #expect(table.columns.allSatisfy { $0.declaredType.isEmpty })
            #expect(source.columns == ["id", "name", "total"])
        }
    }

    @Test(arguments: [
        ("{\"id\": 1,}", "line is not valid JSON"),
        ("{\"id\": 1} trailing", "line is not valid JSON"),
        ("{\"id\": 01}", "line is not valid JSON"),
        ("{\"id\": \"unterminated}", "line is not valid JSON"),
        ("{\"id\": \"\\ud800\"}", "line is not valid JSON"),
        ("{'id': 1}", "line is not valid JSON"),
        ("[1, 2, 3]", "line is not a JSON object"),
        ("\"just a string\"", "line is not a JSON object"),
        ("42", "line is not a JSON object"),
    ])
    func lineThatIsNotAJSONObjectIsRejectedAndTheNextLinesAreRead(bad: String, reason: String) async throws {
        let jsonl = "{\"id\": 1}\n\(bad)\r\n\n{\"id\": 2}"
        let batch = try await withTemporaryFile(jsonl, extension: "jsonl") { path async throws in
            try await JSONLSource(path: path, columns: ["id"]).read(chunk: .all, after: nil, limit: 10)
        }
        #expect(batch.rows == [[.integer(1)], [.integer(2)]])
        #expect(batch.lines == [1, 4])
        #expect(batch.rejected.count == 1)
        #expect(batch.rejected.first?.line == 2)
        #expect(batch.rejected.first?.reason.hasPrefix(reason) == true, "\(batch.rejected.first?.reason ?? "")")
        #expect(batch.rejected.first?.raw == bad)
        #expect(batch.isLast)
    }

    @Test func invalidUTF8InAStringIsRejected() async throws {
        let bytes = Array("{\"id\": 1}\n{\"id\": \"".utf8) + [0xFF] + Array("\"}\n{\"id\": 3}\n".utf8)
        let batch = try await withTemporaryFile(bytes: bytes, extension: "jsonl") { path async throws in
            try await JSONLSource(path: path, columns: ["id"]).read(chunk: .all, after: nil, limit: 10)
        }
        #expect(batch.rows == [[.integer(1)], [.integer(3)]])
        #expect(batch.rejected.map(\.line) == [2])
    }

    @Test func readingInBatchesOfThreeReturnsExactlyWhatOneFullReadReturns() async throws {
        var jsonl = ""
        for id in 1...10 {
            jsonl += id == 5 ? "{broken\n" : "{\"id\": \(id), \"name\": \"n\(id)\"}\(id % 2 == 0 ? "\r\n" : "\n")"
            if id == 7 { jsonl += "   \n" }
        }
        try await withTemporaryFile(jsonl, extension: "jsonl") { path async throws in
            let source = JSONLSource(path: path, columns: ["name", "id"])
            let full = try await source.read(chunk: .all, after: nil, limit: 100)
            #expect(full.rows.count == 9)
            #expect(full.rejected.map(\.line) == [5])
            #expect(full.lines == [1, 2, 3, 4, 6, 7, 9, 10, 11])
            let batched = try await readAll(source, batchSize: 3)
            #expect(batched.rows == full.rows)
            #expect(batched.lines == full.lines)
            #expect(batched.rejected == full.rejected)
            #expect(batched.batches.allSatisfy { $0.recordCount <= 3 })
            #expect(batched.batches.count == 4)
        }
    }

    @Test func linesSpanningReadBlocksAreReadWhole() async throws {
        // About 2 MB: many 256 KiB blocks, with lines falling across their edges.
        var jsonl = ""
        var expected: [[Value]] = []
        for id in 0..<30_000 {
            jsonl += #"{"id": \#(id), "note": "padding padding padding \#(id)", "nested": {"n": [\#(id)]}}"# + "\n"
            expected.append([.integer(Int64(id)), .text("{\"n\":[\(id)]}")])
        }
        try await withTemporaryFile(jsonl, extension: "jsonl") { path async throws in
            let result = try await readAll(JSONLSource(path: path, columns: ["id", "nested"]), batchSize: 997)
            #expect(result.rejected.isEmpty)
            #expect(result.rows == expected)
            #expect(result.lines == Array(1...30_000))
        }
    }

    @Test func missingFileIsInvalidInputNamingThePath() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("missing-\(UUID().uuidString).jsonl")
            .path
        let error = await #expect(throws: BackfillError.self) {
            try await JSONLSource(path: path, columns: nil).describe()
        }
        #expect(error?.code == .invalidInput)
        #expect(error?.message == "cannot open JSONL file (does it exist?)")
        #expect(error?.location == path)
    }

    @Test func fileWithNoObjectInItsFirstLinesCannotBeDescribed() async throws {
        try await withTemporaryFile("[1]\n\"x\"\n", extension: "jsonl") { path async throws in
            let error = await #expect(throws: BackfillError.self) {
                try await JSONLSource(path: path, columns: nil).describe()
            }
            #expect(error?.code == .invalidInput)
            #expect(error?.location == "\(path):1")
        }
        try await withTemporaryFile("\n\n", extension: "jsonl") { path async throws in
            let error = await #expect(throws: BackfillError.self) {
                try await JSONLSource(path: path, columns: nil).describe()
            }
            #expect(error?.message.contains("empty") == true)
        }
    }

    @Test func planIsOneChunkForTheFileCountingTheLines() async throws {
        let (plans, path) = try await withTemporaryFile("{\"id\":1}\n{\"id\":2}\n", extension: "jsonl") { path async throws in
            (try await JSONLSource(path: path, columns: ["id"]).plan(workers: 3), path)
        }
        #expect(plans.count == 1)
        #expect(plans.first?.estimatedRows == 2)
        #expect(plans.first?.range.part?.path == path)
        #expect(plans.first?.range.part?.size == 18)
    }

    @Test func valuesAreTextAndRowsAreNotKeyOrdered() {
        let source = JSONLSource(path: "/nonexistent.jsonl", columns: ["id"])
        #expect(source.valuesAreText)
        #expect(!source.isKeyOrdered)
        #expect(source.columns == ["id"])
    }
}
