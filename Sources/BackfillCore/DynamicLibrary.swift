#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A system library loaded at run time (`dlopen`), so that the build needs neither its headers nor
/// the library itself: libzstd for `.zst` parts, MariaDB's client for `mysql:` endpoints.
public struct DynamicLibrary: @unchecked Sendable {
    private let handle: UnsafeMutableRawPointer

    /// The first of `names` that loads, or `nil` when none does.
    public init?(firstOf names: [String]) {
        guard let handle = names.lazy.compactMap({ dlopen($0, RTLD_NOW | RTLD_LOCAL) }).first else { return nil }
        self.handle = handle
    }

    /// The function `name` as the C function type `type`; `nil` when the library lacks it.
    public func symbol<T>(_ name: String, as type: T.Type) -> T? {
        dlsym(handle, name).map { unsafeBitCast($0, to: type) }
    }
}
