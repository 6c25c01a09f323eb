/// Checks a spec against the source and target it names: columns, key, unique index.
public enum SpecChecker {
    /// Resolves the job's columns, or throws every problem found.
    /// - Throws: `SpecProblems`.
    public static func resolve(_ loaded: LoadedSpec, source: TableDescription, target: TableDescription) throws -> ResolvedJob {
        let spec = loaded.spec
        var problems: [SpecProblem] = []
        let sourceName = spec.source.table.map { "source table '\($0)'" } ?? "the source file"
        let targetName = spec.target.table.map { "target table '\($0)'" } ?? "the target"

        for (index, column) in spec.key.enumerated() {
            if source.column(named: column) == nil {
                problems.append(loaded.problem("key[\(index)]", "key column '\(column)' is not in \(sourceName)\(available(source))"))
            }
            if target.column(named: column) == nil {
                problems.append(loaded.problem("key[\(index)]", "key column '\(column)' is not in \(targetName)\(available(target))"))
            }
        }
        let columns: [String]
        if spec.mode == .updateInPlace {
            columns = spec.key
            for entry in spec.set {
                if target.column(named: entry.column) == nil {
                    problems.append(loaded.problem("set.\(entry.column)", "column '\(entry.column)' is not in \(targetName)\(available(target))"))
                }
                if spec.key.contains(where: { $0.caseInsensitiveCompare(entry.column) == .orderedSame }) {
                    problems.append(loaded.problem("set.\(entry.column)", "the key column '\(entry.column)' cannot be set; rows are found by it"))
                }
            }
        } else if let listed = spec.columns {
            columns = listed
            for (index, column) in listed.enumerated() {
                if source.column(named: column) == nil {
                    problems.append(loaded.problem("columns[\(index)]", "column '\(column)' is not in \(sourceName)\(available(source))"))
                }
                if target.column(named: column) == nil {
                    problems.append(loaded.problem("columns[\(index)]", "column '\(column)' is not in \(targetName)\(available(target))"))
                }
            }
            for column in spec.key where !listed.contains(where: { $0.caseInsensitiveCompare(column) == .orderedSame }) {
                problems.append(loaded.problem("columns", "the key column '\(column)' must be one of the columns"))
            }
        } else {
            columns = source.columns.map(\.name).filter { target.column(named: $0) != nil }
            if columns.isEmpty {
                problems.append(loaded.problem("columns", "\(sourceName) and \(targetName) share no column"))
            }
        }
        if let version = spec.newerWins, !columns.contains(where: { $0.caseInsensitiveCompare(version) == .orderedSame }) {
            problems.append(loaded.problem("conflict.newer-wins", "version column '\(version)' is not among the copied columns"))
        }
        if spec.mode != .updateExisting, spec.mode != .updateInPlace, spec.target.kind.isTable,
            !target.hasUniqueKey(spec.key)
        {
            let key = spec.key.joined(separator: ", ")
            problems.append(loaded.problem(
                "key", "\(targetName) has no primary key or unique index on (\(key)); mode \(spec.mode.rawValue) needs one: CREATE UNIQUE INDEX ON the target (\(key))"))
        }
        for (index, field) in (spec.verify.keyFields ?? []).enumerated()
        where !columns.contains(where: { $0.caseInsensitiveCompare(field) == .orderedSame }) {
            problems.append(loaded.problem("verify.key-fields[\(index)]", "key field '\(field)' is not among the copied columns"))
        }
        guard problems.isEmpty else { throw SpecProblems(problems) }
        let targetColumns = columns.map { target.column(named: $0) ?? ColumnDescription(name: $0, declaredType: "") }
        return ResolvedJob(spec: spec, columns: columns, targetColumns: targetColumns)
    }

    private static func available(_ table: TableDescription) -> String {
        let names = table.columns.prefix(12).map(\.name).joined(separator: ", ")
        return names.isEmpty ? "" : " (it has: \(names))"
    }
}

import Foundation
