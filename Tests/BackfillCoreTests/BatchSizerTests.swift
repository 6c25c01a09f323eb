import BackfillCore
import Testing

@Suite struct BatchSizerTests {
    @Test func fixedWithoutATargetDuration() {
        var sizer = BatchSizer(size: 1000, minimum: 100, maximum: 20000, target: nil)
        sizer.observe(rows: 1000, seconds: 0.001)
        sizer.observe(rows: 1000, seconds: 100)
        sizer.backOff()
        #expect(sizer.size == 1000)
    }

    @Test func growsWhileFastAndHalvesWhenSlow() {
        var sizer = BatchSizer(size: 1000, minimum: 100, maximum: 2000, target: 0.2)
        sizer.observe(rows: 1000, seconds: 0.05)
        #expect(sizer.size == 1250)
        for _ in 0..<10 { sizer.observe(rows: sizer.size, seconds: 0.05) }
        #expect(sizer.size == 2000)
        sizer.observe(rows: 2000, seconds: 0.15)
        #expect(sizer.size == 2000, "inside the band it holds still")
        sizer.observe(rows: 2000, seconds: 0.9)
        #expect(sizer.size == 1000)
        for _ in 0..<10 { sizer.backOff() }
        #expect(sizer.size == 100)
    }

    @Test func aShortLastBatchDoesNotGrowTheSize() {
        var sizer = BatchSizer(size: 1000, minimum: 100, maximum: 2000, target: 0.2)
        sizer.observe(rows: 10, seconds: 0.001)
        #expect(sizer.size == 1000)
    }

    @Test func onlyATargetDurationInTheSpecMakesItAdaptive() throws {
        let base = "name: x\nsource: { sqlite: a.db, table: t }\ntarget: { sqlite: b.db, table: t }\nkey: id\n"
        let fixed = try SpecLoader.parse(yaml: base + "batch: { size: 500 }\n", file: "j", baseDirectory: "/", environment: [:])
        #expect(BatchSizer(spec: fixed.spec).target == nil)
        let adaptive = try SpecLoader.parse(
            yaml: base + "batch: { size: 500, target-duration: 50ms, min: 100, max: 5000 }\n", file: "j", baseDirectory: "/", environment: [:])
        let sizer = BatchSizer(spec: adaptive.spec)
        #expect(sizer.target == 0.05)
        #expect(sizer.size == 500)
        #expect(sizer.maximum == 5000)
    }
}
