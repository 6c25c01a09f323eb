import Foundation
import Yams

/// A parsed spec with the line of each field, for problems found later against the databases.
public struct LoadedSpec: Sendable {
    public var spec: JobSpec
    /// The spec file's path as given.
    public var file: String
    /// Field path → 1-based line.
    public var lines: [String: Int]
    /// The YAML as written (`${VAR}` references not expanded).
    public var text = ""

    /// A problem located at `field` (or at the nearest parent field that has a line).
    public func problem(_ field: String, _ message: String) -> SpecProblem {
        var path = field
        while lines[path] == nil, let cut = path.lastIndex(where: { $0 == "." || $0 == "[" }) {
            path = String(path[..<cut])
        }
        return SpecProblem(file: file, line: lines[path], column: nil, field: field, message: message)
    }
}

/// Reads a YAML spec into a `JobSpec`, reporting every problem at once with its line.
public enum SpecLoader {
    static let topKeys = [
        "name", "source", "target", "key", "columns", "mode", "conflict", "range", "batch", "workers",
        "limits", "throttle", "health", "window", "state", "verify", "events", "set", "journal",
    ]
    /// Contract keys that later versions implement; rejected rather than silently ignored.
    static let notYetSupported: Set<String> = []

    /// Loads and checks the spec at `path`.
    /// - Throws: `SpecProblems` listing everything wrong with it.
    public static func load(path: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> LoadedSpec {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SpecProblems([SpecProblem(file: path, line: nil, column: nil, field: "", message: "cannot read the spec file (does it exist?)")])
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw SpecProblems([SpecProblem(file: path, line: nil, column: nil, field: "", message: "the spec is not UTF-8 text")])
        }
        let base = URL(fileURLWithPath: path).deletingLastPathComponent().path
        return try parse(yaml: text, file: path, baseDirectory: base, environment: environment)
    }

    /// The spec text a run keeps for `backfill worker --run`, `journal` and `undo`: as written, with
    /// any password written into a connection string, and any literal `secret:` value, replaced by
    /// `***` (keep secrets in `${VAR}` references, which are stored unexpanded). With
    /// `baseDirectory` (the spec file's directory), a first comment line keeps it, so that the
    /// stored spec's relative paths name the same files from anywhere (`parseStored`).
    public static func storable(_ text: String, baseDirectory: String? = nil) -> String {
        // A directory whose name holds a line break is not kept (it would end the comment).
        let header = baseDirectory.flatMap { $0.contains(where: \.isNewline) ? nil : Self.baseDirectoryComment + $0 + "\n" } ?? ""
        return header + redacted(text)
    }

    private static let baseDirectoryComment = "# backfill base-directory: "

    /// A spec a run keeps (`storable`), parsed: relative paths resolve against the directory its
    /// first line names, or else the current one.
    ///
    /// A spec stored by an earlier version (without that line) that does not name `journal:` ran
    /// unjournaled, as the default was then: it parses with `journal: off`.
    public static func parseStored(_ text: String, run: Int64, environment: [String: String]) throws -> LoadedSpec {
        var base = FileManager.default.currentDirectoryPath
        let first = text.split(separator: "\n", maxSplits: 1).first
        let current = first?.hasPrefix(baseDirectoryComment) ?? false
        if current, let first { base = String(first.dropFirst(baseDirectoryComment.count)) }
        var loaded = try parse(yaml: text, file: "the spec stored with run \(run)", baseDirectory: base, environment: environment)
        let namesJournal = text.split(separator: "\n").contains { $0.hasPrefix("journal:") || $0.hasPrefix("journal ") }
        if !current, !namesJournal { loaded.spec.journal = JournalSpec() }
        return loaded
    }

    private static func redacted(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            var line = Redaction.redact(String(line), keepingReferences: true)
            if let key = line.range(of: "secret:") {
                let rest = line[key.upperBound...].drop { $0 == " " || $0 == "\"" || $0 == "'" }
                // A `${VAR}` reference holds no secret; anything else up to the next `,`, `}` or comment does.
                let value = line[key.upperBound...].prefix { $0 != "," && $0 != "}" && $0 != "#" }
                if !rest.hasPrefix("${") && !value.trimmingCharacters(in: .whitespaces).isEmpty {
                    line.replaceSubrange(key.upperBound..<value.endIndex, with: " \"***\"")
                }
            }
            return line
        }.joined(separator: "\n")
    }

    /// Parses spec text; `file` is only used in problems.
    /// - Throws: `SpecProblems`.
    public static func parse(yaml: String, file: String, baseDirectory: String, environment: [String: String]) throws -> LoadedSpec {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            throw SpecProblems([yamlProblem(error, file: file)])
        } catch {
            throw SpecProblems([SpecProblem(file: file, line: nil, column: nil, field: "", message: "malformed YAML")])
        }
        guard let root else {
            throw SpecProblems([SpecProblem(file: file, line: nil, column: nil, field: "", message: "the spec is empty")])
        }
        var reader = SpecNodeReader(file: file, environment: environment)
        let spec = SpecBuilder.build(root, reader: &reader, baseDirectory: baseDirectory)
        if let spec, reader.problems.isEmpty {
            var loaded = LoadedSpec(spec: spec, file: file, lines: reader.lines)
            loaded.text = yaml
            return loaded
        }
        throw SpecProblems(reader.problems.sorted { ($0.line ?? 0, $0.column ?? 0) < ($1.line ?? 0, $1.column ?? 0) })
    }

    private static func yamlProblem(_ error: YamlError, file: String) -> SpecProblem {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _):
            let what = [context?.text, problem].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ": ")
            return SpecProblem(file: file, line: mark.line, column: mark.column, field: "", message: "malformed YAML: \(what)")
        default:
            return SpecProblem(file: file, line: nil, column: nil, field: "", message: "malformed YAML: \(error)")
        }
    }
}
