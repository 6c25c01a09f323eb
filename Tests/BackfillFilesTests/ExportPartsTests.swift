import BackfillCore
import BackfillFiles
import Foundation
import Testing

/// Exports in parts: directories and globs, gzip and zstd parts read with the system's libraries,
/// damage and changed parts refused by name.
@Suite struct ExportPartsTests {
    @Test(arguments: ["gzip", "zstd"])
    func compressedPartReadsExactlyWhatItsPlainFileReads(tool: String) async throws {
        let directory = try PartDirectory()
        defer { directory.remove() }
        let plain = try directory.write("plain.csv", csvExport(rows: 20_000))
        try directory.write("packed.csv", csvExport(rows: 20_000))
        let packed = try directory.compress("packed.csv", with: tool)

        let expected = try await readAllChunks(CSVSource(path: plain, columns: nil), batchSize: 20_001)
        let read = try await readAllChunks(CSVSource(path: packed, columns: nil), batchSize: 777)
        #expect(expected.count == 20_000)
        #expect(read.count == expected.count)
        #expect(read == expected, "the decoded rows differ from the plain file's")
    }

    @Test func concatenatedGzipMembersAndZstdFramesAreOneStream() async throws {
        let directory = try PartDirectory()
        defer { directory.remove() }
        try directory.write("a.csv", csvExport(rows: 500))
        try directory.write("b.csv", String(csvExport(rows: 500, first: 501).drop { $0 != "\n" }.dropFirst()))
        try directory.write("c.csv", csvExport(rows: 500))
        try directory.write("d.csv", String(csvExport(rows: 500, first: 501).drop { $0 != "\n" }.dropFirst()))
        try directory.compress("a.csv", with: "gzip")
        try directory.compress("b.csv", with: "gzip")
        try directory.compress("c.csv", with: "zstd")
        try directory.compress("d.csv", with: "zstd")
        let gzip = try directory.write("joined.csv.gz", bytes: directory.bytes("a.csv.gz") + directory.bytes("b.csv.gz"))
        let zstd = try directory.write("joined.csv.zst", bytes: directory.bytes("c.csv.zst") + directory.bytes("d.csv.zst"))

        for path in [gzip, zstd] {
            let rows = try await readAllChunks(CSVSource(path: path, columns: ["id"]), batchSize: 100)
            #expect(rows.count == 1_000)
            #expect(isOneToN(rows), "\(path)")
        }
    }

    @Test func directoryPartsAreChunksInNameOrderLeavingOutHiddenFilesAndMarkers() async throws {
        let directory = try PartDirectory()
        defer { directory.remove() }
        try directory.write("part-2.csv", csvExport(rows: 10, first: 21))
        try directory.write("part-0.csv", csvExport(rows: 10, first: 1))
        try directory.write("part-1.csv", csvExport(rows: 10, first: 11))
        try directory.compress("part-1.csv", with: "gzip")
        try directory.compress("part-2.csv", with: "zstd")
        try directory.write("_SUCCESS", "")
        try directory.write(".part-3.csv.crc", "not a part")
        try FileManager.default.createDirectory(atPath: directory.path + "/nested", withIntermediateDirectories: true)

        let source = CSVSource(path: directory.path, columns: ["id", "amount"])
        let plans = try await source.plan(workers: 2)
        #expect(plans.map { $0.range.part.map { URL(fileURLWithPath: $0.path).lastPathComponent } } == [
            "part-0.csv", "part-1.csv.gz", "part-2.csv.zst",
        ])
        #expect(plans.map(\.index) == [0, 1, 2])
        // Estimates count physical lines; every tenth record spans two.
        #expect(plans.map(\.estimatedRows) == [11, 11, 11])
        let ids = try await readAllChunks(source, batchSize: 4).map { $0[0] }
        #expect(ids == (1...30).map { .text(String($0)) })
    }

    @Test func globMatchesPartsAndAPatternMatchingNothingIsNamed() async throws {
        let directory = try PartDirectory()
        defer { directory.remove() }
        try directory.write("orders-1.jsonl", "{\"id\":1}\n{\"id\":2}\n")
        try directory.write("orders-2.jsonl", "{\"id\":3}\n")
        try directory.compress("orders-2.jsonl", with: "gzip")
        try directory.write("other.jsonl", "{\"id\":99}\n")

        let source = JSONLSource(path: directory.path + "/orders-*.jsonl*", columns: nil)
        #expect(source.columns == ["id"])
        #expect(try await readAllChunks(source, batchSize: 10) == [[.integer(1)], [.integer(2)], [.integer(3)]])

        let pattern = directory.path + "/missing-*.csv.gz"
        let error = await #expect(throws: BackfillError.self) { try await CSVSource(path: pattern, columns: nil).plan(workers: 1) }
        #expect(error?.code == .invalidInput)
        #expect(error?.location == pattern)
        #expect(error?.message.contains("matches no CSV file") == true)
    }

    @Test func emptyDirectoryIsRefusedByName() async throws {
        let directory = try PartDirectory()
        defer { directory.remove() }
        try directory.write("_SUCCESS", "")
        let error = await #expect(throws: BackfillError.self) { try await CSVSource(path: directory.path, columns: nil).describe() }
        #expect(error?.location == directory.path)
        #expect(error?.message.contains("holds no CSV part") == true)
    }

    @Test func partNamedGzipThatIsNotGzipIsRefusedByName() async throws {
        let directory = try PartDirectory()
        defer { directory.remove() }
        let path = try directory.write("part-0.csv.gz", csvExport(rows: 3))
        let error = await #expect(throws: BackfillError.self) { try await CSVSource(path: directory.path, columns: nil).plan(workers: 1) }
        #expect(error?.location == path)
        #expect(error?.message.contains("is not gzip data") == true)
    }

    @Test(arguments: ["gzip", "zstd"], [true, false])
    func damagedPartIsRefusedWhenPlannedAndReadingItStopsAtItsLastCompleteRecord(tool: String, truncate: Bool) async throws {
        let directory = try PartDirectory()
        defer { directory.remove() }
        try directory.write("part.csv", csvExport(rows: 50_000))
        let path = try directory.compress("part.csv", with: tool)
        var bytes = try Array(Data(contentsOf: URL(fileURLWithPath: path)))
        if truncate {
            bytes = Array(bytes.prefix(bytes.count * 2 / 3))
        } else {
            for index in (bytes.count / 2)..<(bytes.count / 2 + 64) { bytes[index] ^= 0x5A }
        }
        try directory.write(URL(fileURLWithPath: path).lastPathComponent, bytes: bytes)
        let damage = truncate ? "is truncated after" : "data is corrupt at byte"

        // Planned: refused before any record is used, naming the part.
        let refused = await #expect(throws: BackfillError.self) { try await CSVSource(path: directory.path, columns: ["id"]).plan(workers: 1) }
        #expect(refused?.location == path)
        #expect(refused?.message.contains(damage) == true)

        // Read directly: every record before the damage, in order, none after it, then the error.
        var rows: [[Value]] = []
        var cursor: Cursor?
        let source = CSVSource(path: path, columns: ["id"])
        let error = await #expect(throws: BackfillError.self) {
            while true {
                let batch = try await source.read(chunk: .all, after: cursor, limit: 1_000)
                rows += batch.rows
                cursor = batch.cursor
                if batch.isLast { break }
            }
        }
        #expect(error?.location == path)
        #expect(error?.message.contains(damage) == true)
        #expect(error?.message.contains("the last complete CSV record read ends before line") == true)
        // Corrupt deflate data may decode into wrong bytes before zlib notices (why plans decode
        // parts whole first); truncated data never does.
        if truncate {
            #expect(rows.count > 10_000)
            #expect(isOneToN(rows))
            let again = await #expect(throws: BackfillError.self) {
                try await CSVSource(path: path, columns: ["id"]).read(chunk: .all, after: cursor, limit: 1_000)
            }
            #expect(again?.message == error?.message)
        }
    }

    @Test func partChangedSincePlanningIsRefusedByName() async throws {
        let directory = try PartDirectory()
        defer { directory.remove() }
        try directory.write("part-0.csv", csvExport(rows: 5))
        let changing = try directory.write("part-1.csv", csvExport(rows: 5, first: 6))
        let plans = try await CSVSource(path: directory.path, columns: ["id"]).plan(workers: 2)
        try directory.write("part-1.csv", csvExport(rows: 6, first: 6))

        let resumed = CSVSource(path: directory.path, columns: ["id"])
        #expect(try await resumed.read(chunk: plans[0].range, after: nil, limit: 10).rows.count == 5)
        let error = await #expect(throws: BackfillError.self) {
            try await resumed.read(chunk: plans[1].range, after: Cursor(byteOffset: 40, line: 3), limit: 10)
        }
        #expect(error?.location == changing)
        #expect(error?.message.contains("changed since the run planned it") == true)
    }

    @Test func resumingACompressedPartFromAnyCursorReturnsExactlyTheRemainingRows() async throws {
        let directory = try PartDirectory()
        defer { directory.remove() }
        try directory.write("part.jsonl", (1...3_000).map { "{\"id\":\($0),\"note\":\"n\\n\($0)\"}\n" }.joined())
        let path = try directory.compress("part.jsonl", with: "zstd")
        let source = JSONLSource(path: path, columns: ["id", "note"])
        let chunk = try #require(try await source.plan(workers: 1).first)
        #expect(abs(chunk.estimatedRows - 3_000) < 300)

        var cursors: [Cursor?] = [nil]
        var all: [[Value]] = []
        while true {
            let batch = try await source.read(chunk: chunk.range, after: cursors.last!, limit: 250)
            all += batch.rows
            if batch.isLast { break }
            cursors.append(batch.cursor)
        }
        #expect(all.count == 3_000)
        for (index, cursor) in cursors.enumerated() where index % 3 == 1 {
            var rest: [[Value]] = []
            var at = cursor
            let fresh = JSONLSource(path: path, columns: ["id", "note"])
            while true {
                let batch = try await fresh.read(chunk: chunk.range, after: at, limit: 400)
                rest += batch.rows
                at = batch.cursor
                if batch.isLast { break }
            }
            #expect(rest.count == all.count - index * 250)
            #expect(rest == Array(all[(index * 250)...]), "resumed at batch \(index)")
        }
    }

    @Test func partsMayOrderTheirColumnsDifferentlyButEachMustHaveThem() async throws {
        let directory = try PartDirectory()
        defer { directory.remove() }
        try directory.write("a.csv", "id,name\n1,one\n")
        try directory.write("b.csv", "name,id\ntwo,2\n")
        #expect(try await readAllChunks(CSVSource(path: directory.path, columns: ["id", "name"]), batchSize: 5) == [
            texts("1", "one"), texts("2", "two"),
        ])
        let lacking = try directory.write("c.csv", "id\n3\n")
        let error = await #expect(throws: BackfillError.self) {
            try await CSVSource(path: directory.path, columns: ["id", "name"]).plan(workers: 1)
        }
        #expect(error?.location == lacking)
        #expect(error?.message.contains("column 'name' is not in the file") == true)
    }

    @Test func quarantinedRecordsOfAPartNameThePart() async throws {
        let directory = try PartDirectory()
        defer { directory.remove() }
        try directory.write("a.csv", "id,name\n1,one\n2,\"unterminated\n")
        let source = CSVSource(path: directory.path, columns: ["id", "name"])
        let chunk = try #require(try await source.plan(workers: 1).first)
        let batch = try await source.read(chunk: chunk.range, after: nil, limit: 10)
        #expect(batch.rows == [texts("1", "one")])
        #expect(batch.rejected.first?.reason.hasPrefix("a.csv: ") == true)
        #expect(batch.rejected.first?.line == 3)
    }
}

/// Whether `rows` are exactly the ids 1, 2, … in order (one text column).
private func isOneToN(_ rows: [[Value]]) -> Bool {
    rows.enumerated().allSatisfy { $1 == [.text(String($0 + 1))] }
}
