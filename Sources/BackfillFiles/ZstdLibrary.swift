import BackfillCore

/// Debian's libzstd (`libzstd1`, which apt itself depends on), loaded when the first `.zst` part is
/// opened. Loading it at run time keeps the build free of zstd's headers, so `swift build` works on a
/// machine without `libzstd-dev`; only reading a `.zst` part needs the library.
struct ZstdLibrary: @unchecked Sendable {
    typealias Create = @convention(c) () -> OpaquePointer?
    typealias Free = @convention(c) (OpaquePointer?) -> Int
    typealias Decompress = @convention(c) (OpaquePointer?, UnsafeMutableRawPointer, UnsafeMutableRawPointer) -> Int
    typealias IsError = @convention(c) (Int) -> UInt32
    typealias ErrorName = @convention(c) (Int) -> UnsafePointer<CChar>?

    let createDStream: Create
    let freeDStream: Free
    let initDStream: Free
    let decompressStream: Decompress
    let isError: IsError
    let errorName: ErrorName

    /// The library, or why it could not be loaded.
    static let shared: Result<ZstdLibrary, BackfillError> = load()

    private static func load() -> Result<ZstdLibrary, BackfillError> {
        let names = ["libzstd.so.1", "libzstd.so", "libzstd.1.dylib", "/opt/homebrew/lib/libzstd.1.dylib"]
        guard let library = DynamicLibrary(firstOf: names) else {
            return .failure(
                BackfillError(
                    .invalidInput,
                    "reading .zst parts needs the zstd library (Debian and Ubuntu: apt-get install libzstd1), which is not installed"))
        }
        func symbol<T>(_ name: String, as type: T.Type) -> T? { library.symbol(name, as: type) }
        guard let create = symbol("ZSTD_createDStream", as: Create.self),
            let free = symbol("ZSTD_freeDStream", as: Free.self),
            let initStream = symbol("ZSTD_initDStream", as: Free.self),
            let decompress = symbol("ZSTD_decompressStream", as: Decompress.self),
            let isError = symbol("ZSTD_isError", as: IsError.self),
            let errorName = symbol("ZSTD_getErrorName", as: ErrorName.self)
        else {
            return .failure(BackfillError(.invalidInput, "the installed zstd library lacks its streaming functions; install libzstd1 1.0 or later"))
        }
        return .success(
            ZstdLibrary(
                createDStream: create, freeDStream: free, initDStream: initStream, decompressStream: decompress,
                isError: isError, errorName: errorName))
    }
}
