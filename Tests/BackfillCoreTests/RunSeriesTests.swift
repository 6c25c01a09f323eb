import BackfillCore
import Foundation
import Testing

@Suite struct RunSeriesTests {
    static func sample(_ second: Double, read: Int, quarantined: Int = 0, retries: Int = 0, batchSize: Int? = 500) -> RunSample {
        var counters = Counters()
        counters.read = read
        counters.quarantined = quarantined
        counters.unchanged = read - quarantined
        counters.retries = retries
        return RunSample(at: Date(timeIntervalSince1970: 1_000 + second), counters: counters, activeSeconds: second, batchSize: batchSize, chunksDone: 0)
    }

    @Test("each step's rows/s and failure rate come from the difference between two samples")
    func steps() {
        let points = RunSeries.points([
            Self.sample(0, read: 0), Self.sample(2, read: 2_000, quarantined: 20, retries: 3), Self.sample(4, read: 2_000, quarantined: 20, retries: 3),
            Self.sample(5, read: 3_000, quarantined: 520),
        ])
        #expect(points.map(\.rowsPerSecond) == [1_000, 0, 1_000])
        #expect(points.map(\.failureRate) == [0.01, 0, 0.5])
        #expect(points.map(\.retries) == [3, 0, 0])
        #expect(points.map(\.elapsedSeconds) == [2, 4, 5])
        #expect(points.map(\.read) == [2_000, 2_000, 3_000])
    }

    @Test("fewer than two samples make no steps")
    func empty() {
        #expect(RunSeries.points([]).isEmpty)
        #expect(RunSeries.points([Self.sample(0, read: 10)]).isEmpty)
    }

    @Test("a long series is thinned to at most maxPoints steps that keep the last sample and average what they skip")
    func thinned() {
        // 1,001 samples a second apart: 100 rows/s for the first half, 300 rows/s for the second.
        var read = 0
        let samples = (0...1_000).map { second -> RunSample in
            if second > 0 { read += second <= 500 ? 100 : 300 }
            return Self.sample(Double(second), read: read)
        }
        let points = RunSeries.points(samples, maxPoints: 100)
        #expect(points.count <= 100 && points.count >= 90)
        #expect(points.last?.read == read && points.last?.elapsedSeconds == 1_000)
        #expect(points.first?.rowsPerSecond == 100 && points.last?.rowsPerSecond == 300)
        let total = zip([0.0] + points.dropLast().map(\.elapsedSeconds), points).reduce(0.0) { sum, pair in
            sum + pair.1.rowsPerSecond * (pair.1.elapsedSeconds - pair.0)
        }
        #expect(abs(total - Double(read)) < 1, "the steps' rows add up to every row read")
    }
}
