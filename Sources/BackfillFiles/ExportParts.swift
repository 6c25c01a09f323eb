import BackfillCore
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The files an export location names: a file; a directory's files; or a glob's matches.
///
/// Warehouses export a table as many parts (BigQuery `EXPORT DATA`, Snowflake `COPY INTO`, Redshift
/// `UNLOAD`); each part becomes one chunk of the run.
public enum ExportParts {
    /// The parts of `location`, sorted by path.
    ///
    /// A location that is a file is its only part. A directory's parts are its regular files, leaving
    /// out names starting with `.` or `_` (hidden files, and the `_SUCCESS` markers Spark and Hadoop
    /// write); subdirectories are not entered. A location with `*`, `?` or `[` that is no file is a
    /// glob; its matches that are regular files are the parts.
    /// - Throws: `BackfillError` `.invalidInput` naming the location when it does not exist, or
    ///   names no file.
    public static func resolve(_ location: String, format: String) throws -> [String] {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: location, isDirectory: &isDirectory) {
            return isDirectory.boolValue ? try files(inDirectory: location, format: format) : [location]
        }
        guard location.contains(where: { "*?[".contains($0) }) else {
            throw BackfillError.cannotOpen(location, format: format)
        }
        let matches = glob(location).filter(isRegularFile)
        guard !matches.isEmpty else {
            throw BackfillError(
                .invalidInput, "the pattern matches no \(format) file; check the path and the pattern", location: location)
        }
        return matches
    }

    private static func files(inDirectory directory: String, format: String) throws -> [String] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw BackfillError.cannotRead(directory, underlying: error)
        }
        let base = directory.hasSuffix("/") ? directory : directory + "/"
        let parts = names.filter { !$0.hasPrefix(".") && !$0.hasPrefix("_") }.map { base + $0 }.filter(isRegularFile).sorted()
        guard !parts.isEmpty else {
            throw BackfillError(
                .invalidInput, "the directory holds no \(format) part (files starting with . or _ are left out)", location: directory)
        }
        return parts
    }

    private static func isRegularFile(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
    }

    private static func glob(_ pattern: String) -> [String] {
        var found = glob_t()
        defer { globfree(&found) }
        #if canImport(Glibc)
        let status = Glibc.glob(pattern, 0, nil, &found)
        #else
        let status = Darwin.glob(pattern, 0, nil, &found)
        #endif
        guard status == 0 else { return [] }
        return (0..<Int(found.gl_pathc)).compactMap { found.gl_pathv[$0].map { String(cString: $0) } }.sorted()
    }
}
