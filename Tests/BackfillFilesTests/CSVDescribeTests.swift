import BackfillCore
import BackfillFiles
import Foundation
import Testing

@Suite(.timeLimit(.minutes(1))) struct CSVDescribeTests {
    @Test func describeListsTheHeaderColumnsUntyped() async throws {
        let table = try await withTemporaryFile("id,\"full, name\",Total\n1,a,2\n") { path async throws in
            try await CSVSource(path: path, columns: nil).describe()
        }
        #expect(table.columns.map(\.name) == ["id", "full, name", "Total"])
        #expect(table.columns.allSatisfy { $0.declaredType.isEmpty && !$0.notNull })
        #expect(table.uniqueKeys.isEmpty)
    }

    @Test func missingFileIsInvalidInputNamingThePath() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("missing-\(UUID().uuidString).csv")
            .path
        let source = CSVSource(path: path, columns: ["id"])
        let error = await #expect(throws: BackfillError.self) { try await source.describe() }
        #expect(error?.code == .invalidInput)
        #expect(error?.message == "cannot open CSV file (does it exist?)")
        #expect(error?.location == path)
        await #expect(throws: BackfillError.self) { try await source.read(chunk: .all, after: nil, limit: 10) }
        await #expect(throws: BackfillError.self) { try await source.plan(workers: 2) }
        #expect(CSVSource(path: path, columns: nil).columns.isEmpty)
    }

    @Test(arguments: ["", "\n\r\n\n"])
    func fileWithoutHeaderIsInvalidInputNamingTheFile(contents: String) async throws {
        try await withTemporaryFile(contents) { path async throws in
            let error = await #expect(throws: BackfillError.self) {
                try await CSVSource(path: path, columns: nil).describe()
            }
            #expect(error?.code == .invalidInput)
            #expect(error?.location == path)
            #expect(error?.message.contains("empty") == true)
        }
    }

    @Test func duplicateHeaderNameIsInvalidInputNamingTheColumn() async throws {
        try await withTemporaryFile("id,name,Name\n") { path async throws in
            let error = await #expect(throws: BackfillError.self) {
                try await CSVSource(path: path, columns: nil).describe()
            }
            #expect(error?.code == .invalidInput)
            #expect(error?.message.contains("'Name'") == true)
            #expect(error?.location == "\(path):1")
        }
    }

    @Test func malformedHeaderIsInvalidInputWithItsLine() async throws {
        try await withTemporaryFile("\nid,na\"me\n1,a\n") { path async throws in
            let error = await #expect(throws: BackfillError.self) {
                try await CSVSource(path: path, columns: nil).describe()
            }
            #expect(error?.code == .invalidInput)
            #expect(error?.location == "\(path):2")
        }
    }

    @Test func readingAColumnTheHeaderLacksIsInvalidInputNamingIt() async throws {
        try await withTemporaryFile("id,name\n1,a\n") { path async throws in
            let source = CSVSource(path: path, columns: ["id", "email"])
            let error = await #expect(throws: BackfillError.self) {
                try await source.read(chunk: .all, after: nil, limit: 10)
            }
            #expect(error?.code == .invalidInput)
            #expect(error?.message.contains("'email'") == true)
        }
    }

    @Test func checkKeyAcceptsAnyFile() async throws {
        try await CSVSource(path: "/nonexistent.csv", columns: ["id"]).checkKey()
    }

    @Test func planIsOneChunkOverTheWholeFileWithAnExactCountForSmallFiles() async throws {
        let (plans, path) = try await withTemporaryFile("id,name\n1,a\n2,b\n3,c") { path async throws in
            (try await CSVSource(path: path, columns: ["id"]).plan(workers: 4), path)
        }
        #expect(plans.count == 1)
        #expect(plans.first?.estimatedRows == 3)
        #expect(plans.first?.range.part?.path == path)
    }

    @Test func planEstimatesLargeFilesFromTheirFirstLines() async throws {
        let line = "12345,some name,more text here\n"
        let csv = "id,name,note\n" + String(repeating: line, count: 50_000)
        let plans = try await withTemporaryFile(csv) { path async throws in
            try await CSVSource(path: path, columns: ["id"]).plan(workers: 2)
        }
        let estimate = try #require(plans.first?.estimatedRows)
        #expect(plans.count == 1)
        #expect(abs(estimate - 50_000) < 500)
    }
}
