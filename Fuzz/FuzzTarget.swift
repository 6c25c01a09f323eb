import BackfillCore
import BackfillFiles
import BackfillPostgres
import Foundation

/// libFuzzer targets for the parsers that read untrusted input, one per `BACKFILL_FUZZ_TARGET`:
/// `csv` and `jsonl` (a whole file read through the real source), `spec` (YAML through the
/// loader and into a runner configuration), `dsn` (PostgreSQL connection strings) and
/// `retry-after` (the header value). Built and run by `scripts/fuzz.sh`; a crash, a trap or an
/// address-sanitizer report is a finding.
enum FuzzTarget: String, Sendable {
    case csv, jsonl, spec, dsn, retryAfter = "retry-after"

    static let selected: FuzzTarget = {
        let name = ProcessInfo.processInfo.environment["BACKFILL_FUZZ_TARGET"] ?? ""
        guard let target = FuzzTarget(rawValue: name) else {
            FileHandle.standardError.write(Data("set BACKFILL_FUZZ_TARGET to csv, jsonl, spec, dsn or retry-after\n".utf8))
            exit(2)
        }
        return target
    }()

    /// A scratch file per process for the file sources.
    static let scratch = NSTemporaryDirectory() + "backfill-fuzz-\(ProcessInfo.processInfo.processIdentifier)"

    func run(_ bytes: Data) {
        switch self {
        case .csv: Self.readAll(bytes, extension: "csv") { CSVSource(path: $0, columns: nil) }
        case .jsonl: Self.readAll(bytes, extension: "jsonl") { JSONLSource(path: $0, columns: nil) }
        case .spec:
            let text = String(decoding: bytes, as: UTF8.self)
            if let loaded = try? SpecLoader.parse(yaml: text, file: "fuzz.yaml", baseDirectory: "/", environment: ["PW": "x"]) {
                _ = RunnerConfiguration(spec: loaded.spec)
                _ = loaded.spec.fingerprint
            }
        case .dsn:
            _ = try? PostgresDSN(String(decoding: bytes, as: UTF8.self))
            _ = Redaction.redact(String(decoding: bytes, as: UTF8.self))
        case .retryAfter:
            let cap = Duration.seconds(300)
            if let delay = RetryAfter.delay(String(decoding: bytes, as: UTF8.self), cap: cap), delay < .zero || delay > cap {
                fatalError("Retry-After delay \(delay) outside 0…\(cap)")
            }
        }
    }

    /// Writes `bytes` as a file and reads every batch of it through the real source, as a run would.
    static func readAll(_ bytes: Data, extension ext: String, source: @escaping @Sendable (String) -> any Source) {
        let path = scratch + "." + ext
        guard FileManager.default.createFile(atPath: path, contents: bytes) else { return }
        let done = DispatchSemaphore(value: 0)
        Task {
            let source = source(path)
            if (try? await source.describe()) != nil {
                var cursor: Cursor?
                var reads = 0
                while reads < 10_000, let batch = try? await source.read(chunk: .all, after: cursor, limit: 7) {
                    reads += 1
                    cursor = batch.cursor
                    if batch.isLast { break }
                }
            }
            done.signal()
        }
        done.wait()
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    FuzzTarget.selected.run(data.map { Data(bytes: $0, count: size) } ?? Data())
    return 0
}

/// libFuzzer's driver, entered from our own `main`: SwiftPM links an executable's entry point as
/// `<module>_main`, so libFuzzer's `main` is not the one used.
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

@_cdecl("backfill_fuzz_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var arguments = argv
    return runFuzzerDriver(&count, &arguments, fuzzOneInput)
}
