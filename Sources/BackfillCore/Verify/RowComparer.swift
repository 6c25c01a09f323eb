/// Compares key-ordered rows of both sides and records every difference in a report.
struct RowComparer: Sendable {
    let job: ResolvedJob
    let reportLimit: Int
    /// Across engines: the kind of each compared column; both sides are brought to its canonical
    /// form before they are compared.
    var canonical: [CanonicalKind]? = nil

    /// Merge-joins two key-ordered row lists and records every difference.
    func compare(_ rawSourceRows: [[Value]], _ targetRows: [[Value]], report: inout VerifyReport) {
        // Source values are typed for the target's columns, as a run would write them.
        let shaper = RowShaper(job: job, strict: false)
        var sourceRows = rawSourceRows.map { row in
            if case .success(let typed) = shaper.shape(row) { return typed }
            return row
        }
        var targetRows = targetRows
        if let canonical {
            let form = { (row: [Value]) in zip(row, canonical).map { $1.canonical($0) } }
            sourceRows = sourceRows.map(form)
            targetRows = targetRows.map(form)
        }
        // Canonical values in the order they sort by (`CanonicalKind.ordered`).
        let ordered = { (row: [Value], index: Int) in canonical.map { $0[index].ordered(row[index]) } ?? row[index] }
        let orderedKey = { (row: [Value]) in job.keyIndices.map { ordered(row, $0) } }
        var i = 0, j = 0
        while i < sourceRows.count || j < targetRows.count {
            let order: Int
            if i == sourceRows.count {
                order = 1
            } else if j == targetRows.count {
                order = -1
            } else {
                order = KeyOrder.compare(orderedKey(sourceRows[i]), orderedKey(targetRows[j]))
            }
            if order < 0 {
                record(.missing, key: job.key(of: sourceRows[i]), columns: [], report: &report)
                i += 1
            } else if order > 0 {
                record(.extra, key: job.key(of: targetRows[j]), columns: [], report: &report)
                j += 1
            } else {
                let columns = job.columns.indices
                    .filter { !sourceRows[i][$0].isSameStoredValue(as: targetRows[j][$0]) }
                    .map { job.columns[$0] }
                if !columns.isEmpty {
                    let newer = job.versionIndex.map { Value.compare(ordered(targetRows[j], $0), ordered(sourceRows[i], $0)) > 0 } ?? false
                    record(newer ? .newerInTarget : .different, key: job.key(of: sourceRows[i]), columns: columns, report: &report)
                }
                i += 1
                j += 1
            }
        }
    }

    func record(_ kind: RowDifference.Kind, key: [Value], columns: [String], report: inout VerifyReport) {
        switch kind {
        case .missing:
            report.missing += 1
            report.repairKeys?.append(key)
        case .extra:
            report.extra += 1
            report.extraKeys?.append(key)
        case .different:
            report.different += 1
            report.repairKeys?.append(key)
        case .newerInTarget: report.newerInTarget += 1
        }
        if report.differences.count < reportLimit {
            report.differences.append(RowDifference(kind: kind, key: key, columns: columns))
        }
    }
}
