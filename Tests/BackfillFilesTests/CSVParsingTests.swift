import BackfillCore
import BackfillFiles
import Testing

@Suite(.timeLimit(.minutes(1))) struct CSVParsingTests {
    @Test func quotedFieldsKeepCommasDoubledQuotesAndEmbeddedNewlines() async throws {
        let csv = "id,name,note\n1,\"Smith, Jane\",\"she said \"\"hi\"\"\"\n2,\"two\nlines\r\nhere\",plain\n"
        let rows = try await withTemporaryFile(csv) { path async throws in
            try await CSVSource(path: path, columns: ["id", "name", "note"]).read(chunk: .all, after: nil, limit: 10)
                .rows
        }
        #expect(rows == [texts("1", "Smith, Jane", "she said \"hi\""), texts("2", "two\nlines\r\nhere", "plain")])
    }

    @Test func emptyUnquotedFieldIsNullAndQuotedEmptyFieldIsEmptyText() async throws {
        let csv = "a,b,c\n,\"\",x\n\"\",,\n"
        let rows = try await withTemporaryFile(csv) { path async throws in
            try await CSVSource(path: path, columns: ["a", "b", "c"]).read(chunk: .all, after: nil, limit: 10).rows
        }
        #expect(rows == [texts(nil, "", "x"), texts("", nil, nil)])
    }

    @Test func crlfRecordEndsAreNotPartOfValues() async throws {
        let csv = "id,name\r\n1,a\r\n2,\"b\"\r\n"
        let batch = try await withTemporaryFile(csv) { path async throws in
            try await CSVSource(path: path, columns: ["id", "name"]).read(chunk: .all, after: nil, limit: 10)
        }
        #expect(batch.rows == [texts("1", "a"), texts("2", "b")])
        #expect(batch.lines == [2, 3])
        #expect(batch.isLast)
    }

    @Test func loneCarriageReturnInUnquotedFieldIsData() async throws {
        let rows = try await withTemporaryFile("a,b\nx\ry,z\n") { path async throws in
            try await CSVSource(path: path, columns: ["a", "b"]).read(chunk: .all, after: nil, limit: 10).rows
        }
        #expect(rows == [texts("x\ry", "z")])
    }

    @Test(arguments: ["1,a", "1,\"a\"", "1,a\r"])
    func lastRecordWithoutLineBreakIsRead(lastLine: String) async throws {
        let batch = try await withTemporaryFile("id,name\n0,z\n" + lastLine) { path async throws in
            try await CSVSource(path: path, columns: ["id", "name"]).read(chunk: .all, after: nil, limit: 10)
        }
        #expect(batch.rows == [texts("0", "z"), texts("1", "a")])
        #expect(batch.isLast)
    }

    @Test func blankLinesAreSkippedButStillCountAsLines() async throws {
        let csv = "\nid,name\n\n1,a\r\n\r\n\n2,b\n\n"
        let batch = try await withTemporaryFile(csv) { path async throws in
            try await CSVSource(path: path, columns: ["id", "name"]).read(chunk: .all, after: nil, limit: 10)
        }
        #expect(batch.rows == [texts("1", "a"), texts("2", "b")])
        #expect(batch.lines == [4, 7])
        #expect(batch.rejected.isEmpty)
    }

    @Test func lineNumbersCountNewlinesInsideQuotedFields() async throws {
        let csv = "id,note\n1,\"a\nb\nc\"\n2,x\n3,\"\n\"\n4,y\n"
        let batch = try await withTemporaryFile(csv) { path async throws in
            try await CSVSource(path: path, columns: ["id", "note"]).read(chunk: .all, after: nil, limit: 10)
        }
        #expect(batch.rows.map { $0[0] } == texts("1", "2", "3", "4"))
        #expect(batch.lines == [2, 5, 6, 8])
        #expect(batch.cursor?.line == 9)
    }

    @Test func columnsArePickedByHeaderNameInTheRequestedOrderIgnoringCase() async throws {
        let csv = "Name,ID,ignored,Total\nann,1,zzz,10\nbob,2,yyy,20\n"
        let rows = try await withTemporaryFile(csv) { path async throws in
            try await CSVSource(path: path, columns: ["id", "total", "name"]).read(chunk: .all, after: nil, limit: 10)
                .rows
        }
        #expect(rows == [texts("1", "10", "ann"), texts("2", "20", "bob")])
    }

    @Test func nilColumnsReadEveryHeaderColumnInHeaderOrder() async throws {
        try await withTemporaryFile("b,a\n1,2\n") { path async throws in
            let source = CSVSource(path: path, columns: nil)
            #expect(source.columns == ["b", "a"])
            #expect(try await source.read(chunk: .all, after: nil, limit: 10).rows == [texts("1", "2")])
        }
    }

    @Test func byteOrderMarkBeforeTheHeaderIsNotPartOfTheFirstName() async throws {
        let bytes: [UInt8] = [0xEF, 0xBB, 0xBF] + Array("id,name\n1,a\n".utf8)
        try await withTemporaryFile(bytes: bytes) { path async throws in
            let source = CSVSource(path: path, columns: ["id", "name"])
            #expect(try await source.describe().columns.map(\.name) == ["id", "name"])
            #expect(try await source.read(chunk: .all, after: nil, limit: 10).rows == [texts("1", "a")])
        }
    }

    @Test func valuesAreTextAndRowsAreNotKeyOrdered() {
        let source = CSVSource(path: "/nonexistent.csv", columns: ["id"])
        #expect(source.valuesAreText)
        #expect(!source.isKeyOrdered)
        #expect(source.columns == ["id"])
    }
}
