import Foundation
import Yams

/// Builds a `JobSpec` from a composed node tree, field by field.
enum SpecBuilder {
    static func build(_ root: Node, reader: inout SpecNodeReader, baseDirectory: String) -> JobSpec? {
        guard let top = reader.mapping(root, field: "", allowed: SpecLoader.topKeys) else { return nil }
        for key in SpecLoader.notYetSupported where top[key] != nil {
            reader.problem(key, top[key], "'\(key)' is not supported by this version of backfill yet; remove it")
        }
        let name = requiredString(top, "name", reader: &reader)
        if let name, !isValidJobName(name) {
            reader.problem("name", top["name"], "use letters, digits, '-', '_' and '.' (at most 100), got '\(name)'")
        }
        let source = endpoint(top["source"], field: "source", kinds: [.sqlite, .postgres, .mysql, .csv, .jsonl], reader: &reader)
        let inPlace = top["mode"]?.string == WriteMode.updateInPlace.rawValue
        let target = inPlace && top["target"] == nil
            ? source
            : endpoint(top["target"], field: "target", kinds: [.sqlite, .postgres, .mysql, .jsonl, .webhook], reader: &reader)
        if !inPlace, let source, let target, source.isSameTable(as: target, resolving: { JobSpec.resolve(path: $0, against: baseDirectory) }) {
            reader.problem(
                "target", top["target"],
                "the target is the source itself (the same \(source.kind.rawValue) database and table '\(source.table ?? "")'); name another table or database as the target")
        }
        let events = eventsSpec(top["events"], reader: &reader)
        let key = events != nil && top["key"] == nil ? events?.readKey : keyColumns(top["key"], reader: &reader)
        let columns = columnList(top["columns"], reader: &reader)
        let mode = writeMode(top["mode"], reader: &reader)
        let newerWins = conflict(top["conflict"], reader: &reader)
        let range = rangeSpec(top["range"], reader: &reader)
        let batch = batchSpec(top["batch"], reader: &reader)
        let workers = top["workers"].map { reader.integer($0, field: "workers", range: 1...64) } ?? (events != nil ? 1 : 2)
        if events != nil, let workers, workers > 1 {
            reader.problem("workers", top["workers"], "events are read in order by one worker (so that each order key's events stay in order); set target.concurrency for parallel delivery")
        }
        if let target, target.kind == .webhook, events == nil {
            reader.problem("target.webhook", top["target"], "a webhook target replays events: add events: {id: COLUMN, order-key: COLUMN, order-by: COLUMN}")
        }
        if events != nil, let target, target.kind != .webhook && target.kind != .jsonl {
            reader.problem("events", top["events"], "events are replayed to a webhook or a JSONL file target; a \(target.kind.rawValue) target takes rows (remove events:)")
        }
        if let target, target.kind == .jsonl {
            if events == nil {
                reader.problem("target.jsonl", top["target"], "a JSONL target is an append-only event log: add events: {id: COLUMN, order-by: COLUMN}")
            } else if let mode, mode != .insertMissing {
                reader.problem("mode", top["mode"] ?? top["target"], "a JSONL event log is append-only: use mode: insert-missing")
            }
        }
        let limits = limitsSpec(top["limits"], reader: &reader)
        let state = reader.string(top["state"], field: "state")
        let window = windowSpec(top["window"], reader: &reader)
        let throttle = throttleSpec(top["throttle"], reader: &reader)
        let verify = verifySpec(top["verify"], reader: &reader)
        if throttle != nil, let source, !source.kind.isTable {
            reader.problem("throttle", top["throttle"], "a throttle query runs on the source database; a \(source.kind.rawValue) source has none")
        }
        if limits?.walBytesPerSecond != nil, let target, target.kind != .postgres {
            reader.problem(
                "limits.wal-bytes-per-second", top["limits"], "WAL is measured on a PostgreSQL target; a \(target.kind.rawValue) target writes none")
        }
        let health = healthSpec(top["health"], reader: &reader)
        if health.replicaLag != nil, health.replicas.isEmpty, let target, target.kind != .postgres, source?.kind != .postgres {
            let mysql = target.kind == .mysql || source?.kind == .mysql
            reader.problem(
                "health.replica-lag", top["health"],
                mysql
                    ? "a MySQL server does not report its replicas' lag: list them in health.replicas (mysql:// DSNs), each read with SHOW REPLICA STATUS"
                    : "replica lag is read from a PostgreSQL target's pg_stat_replication, a PostgreSQL source that is a standby, or the MySQL "
                        + "replicas in health.replicas; a \(source?.kind.rawValue ?? "?") source and a \(target.kind.rawValue) target have none")
        }
        if !health.replicas.isEmpty, let target, target.kind != .mysql, source?.kind != .mysql {
            reader.problem(
                "health.replicas", top["health"],
                "health.replicas lists MySQL replicas, for a MySQL source or target; a PostgreSQL target's standbys are read from the target itself")
        }
        if !health.replicas.isEmpty, health.replicaLag == nil {
            reader.problem("health.replicas", top["health"], "replicas are read for health.replica-lag, which is not set")
        }
        if health.targetLatency != nil, let target, target.kind != .postgres {
            reader.problem("health.target-latency", top["health"], "the latency probe runs on a PostgreSQL target; a \(target.kind.rawValue) target has none")
        }
        let set = setExpressions(top["set"], reader: &reader)
        // Runs into tables are journaled unless `journal: off`; events sent cannot be taken back.
        let journalable = (target.map { ($0.kind == .sqlite || $0.kind == .postgres) && $0.table != nil } ?? false) && events == nil
        var journal = top["journal"] == nil && journalable ? JournalSpec(keep: JournalSpec.defaultKeep) : journalSpec(top["journal"], reader: &reader)
        if journal.isOn, !journalable, let target {
            reader.problem(
                "journal", top["journal"],
                events != nil
                    ? "a \(target.kind.rawValue) target of events keeps no journal: events sent cannot be taken back (remove journal:)"
                    : "a \(target.kind.rawValue) target keeps no journal: journals are kept for SQLite and PostgreSQL tables (remove journal:)")
            journal = JournalSpec()
        }
        if let mode, let source, let target {
            checkInPlace(mode: mode, set: set, source: source, target: target, top: top, reader: &reader)
        }
        guard let name, let source, let target, let key, let mode, let range, let batch, let workers, let limits else {
            return nil
        }
        var spec = JobSpec(
            name: name, source: source, target: target, key: key, columns: columns, mode: mode,
            newerWins: newerWins, range: range, batch: batch, workers: workers, limits: limits, state: state,
            baseDirectory: baseDirectory, window: window, throttle: throttle)
        spec.verify = verify
        spec.journal = journal
        spec.set = set
        spec.events = events
        spec.health = health
        return spec
    }

    /// `journal: off`, `journal: on` or `journal: { keep: 7d }` (a duration of at most a year;
    /// `d` counts days).
    private static func journalSpec(_ node: Node?, reader: inout SpecNodeReader) -> JournalSpec {
        guard let node else { return JournalSpec() }
        if case .scalar(let scalar) = node {
            switch scalar.string.lowercased() {
            case "off", "false": return JournalSpec()
            case "on", "true": return JournalSpec(keep: JournalSpec.defaultKeep)
            default:
                reader.problem("journal", node, "expected on, off or { keep: DURATION }, got '\(scalar.string)'")
                return JournalSpec()
            }
        }
        guard let map = reader.mapping(node, field: "journal", allowed: ["keep"]) else { return JournalSpec() }
        guard let keepNode = map["keep"] else { return JournalSpec(keep: JournalSpec.defaultKeep) }
        let text = reader.string(keepNode, field: "journal.keep") ?? ""
        let days = text.hasSuffix("d") ? Double(text.dropLast()).map { $0 * 86_400 } : nil
        guard let seconds = days ?? SpecNodeReader.parseDuration(text), seconds > 0, seconds <= 366 * 86_400 else {
            reader.problem("journal.keep", keepNode, "expected a duration like 12h or 7d (at most 366d), got '\(text)'")
            return JournalSpec()
        }
        return JournalSpec(keep: seconds)
    }

    private static func verifySpec(_ node: Node?, reader: inout SpecNodeReader) -> VerifySpec {
        guard let node, let map = reader.mapping(node, field: "verify", allowed: ["key-fields", "spot-check", "queries", "after-run"]) else {
            return VerifySpec()
        }
        var verify = VerifySpec()
        if let fieldsNode = map["key-fields"] {
            verify.keyFields = reader.stringList(fieldsNode, field: "verify.key-fields")
            checkIdentifiers(verify.keyFields ?? [], field: "verify.key-fields", node: fieldsNode, reader: &reader)
        }
        verify.spotCheck = reader.integer(map["spot-check"], field: "verify.spot-check", range: 1...1_000_000)
        verify.afterRun = reader.boolean(map["after-run"], field: "verify.after-run") ?? false
        if let queriesNode = map["queries"] {
            if case .mapping(let queries) = queriesNode {
                for (nameNode, sqlNode) in queries {
                    let name = nameNode.string ?? ""
                    if let sql = reader.string(sqlNode, field: "verify.queries.\(name)") {
                        if sql.contains(";") { reader.problem("verify.queries.\(name)", sqlNode, "must be one query without ';'") }
                        verify.queries.append(VerifySpec.NamedQuery(name: name, sql: sql))
                    }
                }
            } else {
                reader.problem("verify.queries", queriesNode, "expected a mapping of name: SQL query")
            }
        }
        return verify
    }

    private static func windowSpec(_ node: Node?, reader: inout SpecNodeReader) -> WindowSpec? {
        guard let node, let map = reader.mapping(node, field: "window", allowed: ["hours", "days", "timezone"]) else { return nil }
        var window = WindowSpec(openMinute: 0, closeMinute: 24 * 60)
        if let hours = reader.string(map["hours"], field: "window.hours") {
            if let (open, close) = WindowSpec.parseHours(hours) {
                window.openMinute = open
                window.closeMinute = close
            } else {
                reader.problem("window.hours", map["hours"], "expected HH:MM-HH:MM, e.g. 01:00-05:00, got '\(hours)'")
            }
        } else if map["hours"] == nil, map["days"] == nil {
            reader.problem("window", node, "name hours (e.g. 01:00-05:00) and/or days (e.g. [sat, sun])")
        }
        for (index, day) in (reader.stringList(map["days"], field: "window.days") ?? []).enumerated() {
            if let number = WindowSpec.dayNames[String(day.lowercased().prefix(3))] {
                window.weekdays.insert(number)
            } else {
                reader.problem("window.days[\(index)]", map["days"], "unknown day '\(day)'; use mon, tue, wed, thu, fri, sat, sun")
            }
        }
        if let zone = reader.string(map["timezone"], field: "window.timezone") {
            if TimeZone(identifier: zone) == nil {
                reader.problem("window.timezone", map["timezone"], "unknown time zone '\(zone)'; use an IANA name like UTC or Europe/Berlin")
            } else {
                window.timeZone = zone
            }
        }
        return window
    }

    private static func healthSpec(_ node: Node?, reader: inout SpecNodeReader) -> HealthSpec {
        guard let node,
            let map = reader.mapping(node, field: "health", allowed: ["replica-lag", "replicas", "target-latency", "live-traffic", "gentle-share"])
        else { return HealthSpec() }
        let replicas = reader.stringList(map["replicas"], field: "health.replicas") ?? []
        for replica in replicas where !replica.hasPrefix("mysql://") && !replica.hasPrefix("mariadb://") {
            reader.problem("health.replicas", map["replicas"], "expected mysql:// DSNs of MySQL or MariaDB replicas, got \(Redaction.redact(replica))")
        }
        var mode = LiveTrafficMode.auto
        if let text = reader.string(map["live-traffic"], field: "health.live-traffic") {
            if let parsed = LiveTrafficMode(rawValue: text) {
                mode = parsed
            } else {
                reader.problem(
                    "health.live-traffic", map["live-traffic"],
                    "expected one of \(LiveTrafficMode.allCases.map(\.rawValue).joined(separator: ", ")), got \(text)")
            }
        }
        return HealthSpec(
            replicaLag: reader.duration(map["replica-lag"], field: "health.replica-lag"),
            replicas: replicas,
            targetLatency: reader.duration(map["target-latency"], field: "health.target-latency"),
            liveTraffic: mode,
            gentleShare: reader.share(map["gentle-share"], field: "health.gentle-share", range: 0.01...16) ?? HealthSpec.defaultGentleShare)
    }

    private static func throttleSpec(_ node: Node?, reader: inout SpecNodeReader) -> ThrottleSpec? {
        guard let node, let map = reader.mapping(node, field: "throttle", allowed: ["query", "max", "every"]) else { return nil }
        guard let query = reader.string(map["query"], field: "throttle.query") else {
            if map["query"] == nil { reader.problem("throttle.query", node, "missing required key 'query'") }
            return nil
        }
        guard let max = reader.number(map["max"], field: "throttle.max", range: -1e15...1e15) else {
            if map["max"] == nil { reader.problem("throttle.max", node, "missing required key 'max'") }
            return nil
        }
        if query.contains(";") { reader.problem("throttle.query", map["query"], "must be one query without ';'") }
        let every = reader.duration(map["every"], field: "throttle.every") ?? 1
        return ThrottleSpec(query: query, max: max, every: every)
    }

    private static func isValidJobName(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 100
            && name.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || "0123456789-_.".unicodeScalars.contains($0)) }
    }

    private static func requiredString(_ map: [String: Node], _ key: String, reader: inout SpecNodeReader) -> String? {
        guard let node = map[key] else {
            reader.problem(key, nil, "missing required key '\(key)'")
            return nil
        }
        return reader.string(node, field: key)
    }

    private static func endpoint(_ node: Node?, field: String, kinds: [Endpoint.Kind], reader: inout SpecNodeReader) -> Endpoint? {
        guard let node else {
            reader.problem(field, nil, "missing required key '\(field)' (e.g. {sqlite: data/db.sqlite, table: orders})")
            return nil
        }
        let webhookOptions = ["secret", "headers", "timeout", "concurrency"]
        let allowed = kinds.map(\.rawValue) + ["table"] + (kinds.contains(.webhook) ? webhookOptions : []) + (field == "target" ? ["create"] : [])
        guard let map = reader.mapping(node, field: field, allowed: allowed) else { return nil }
        let named = kinds.filter { map[$0.rawValue] != nil }
        guard named.count == 1, let kind = named.first else {
            let list = kinds.map(\.rawValue).joined(separator: ", ")
            reader.problem(field, node, named.isEmpty ? "name exactly one of \(list)" : "name only one of \(list)")
            return nil
        }
        guard let location = reader.string(map[kind.rawValue], field: "\(field).\(kind.rawValue)") else { return nil }
        if location.isEmpty { reader.problem("\(field).\(kind.rawValue)", map[kind.rawValue], "must not be empty") }
        for option in webhookOptions where kind != .webhook && map[option] != nil {
            reader.problem("\(field).\(option)", map[option], "'\(option)' applies to a webhook \(field) only")
        }
        var webhook: WebhookSpec?
        if kind == .webhook {
            webhook = webhookSpec(map, field: field, reader: &reader)
            if !(location.hasPrefix("http://") || location.hasPrefix("https://")) {
                reader.problem("\(field).webhook", map[kind.rawValue], "expected an http:// or https:// URL")
            }
        }
        let needsTable = kind.isTable
        if needsTable, map["table"] == nil {
            reader.problem("\(field).table", node, "missing required key 'table' for a \(kind.rawValue) \(field)")
        }
        if !needsTable, map["table"] != nil {
            reader.problem("\(field).table", map["table"], "'table' does not apply to a \(kind.rawValue) \(field)")
        }
        var table = reader.string(map["table"], field: "\(field).table")
        if kind == .sqlite, let name = table, name.hasPrefix("main.") { table = String(name.dropFirst(5)) }  // a file's only schema
        if let table, !Identifier.isValid(table, allowSchema: kind == .postgres) {
            let rule = kind == .postgres ? Identifier.rule : Identifier.rule + "; a SQLite table has no schema but main"
            reader.problem("\(field).table", map["table"], "invalid table name '\(table)': \(rule)")
        }
        var endpoint = Endpoint(kind: kind, location: location, table: table)
        endpoint.webhook = webhook
        if let node = map["create"] {
            endpoint.create = reader.boolean(node, field: "\(field).create") ?? false
            if endpoint.create, !needsTable || kind == .mysql {
                reader.problem("\(field).create", node, "create applies to a SQLite or PostgreSQL table \(field)")
            }
        }
        return endpoint
    }

    private static func webhookSpec(_ map: [String: Node], field: String, reader: inout SpecNodeReader) -> WebhookSpec {
        var webhook = WebhookSpec()
        webhook.secret = reader.string(map["secret"], field: "\(field).secret")
        if webhook.secret?.isEmpty == true {
            reader.problem("\(field).secret", map["secret"], "the secret is empty (is its environment variable set?)")
        }
        if let node = map["headers"], let headers = reader.mapping(node, field: "\(field).headers", allowed: nil) {
            for (name, value) in headers {
                guard let text = reader.string(value, field: "\(field).headers.\(name)") else { continue }
                let reserved = ["content-type", "idempotency-key", "backfill-signature", "content-length", "host"]
                if reserved.contains(name.lowercased()) {
                    reader.problem("\(field).headers.\(name)", value, "backfill sets \(name) itself")
                } else if name.isEmpty || !name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) {
                    reader.problem("\(field).headers.\(name)", value, "invalid header name '\(name)'")
                } else if text.contains(where: { $0 == "\r" || $0 == "\n" }) {
                    reader.problem("\(field).headers.\(name)", value, "a header value cannot contain a line break")
                } else {
                    webhook.headers[name] = text
                }
            }
        }
        if let timeout = reader.duration(map["timeout"], field: "\(field).timeout") { webhook.timeout = timeout }
        if let concurrency = map["concurrency"].flatMap({ reader.integer($0, field: "\(field).concurrency", range: 1...1024) }) {
            webhook.concurrency = concurrency
        }
        return webhook
    }

    private static func eventsSpec(_ node: Node?, reader: inout SpecNodeReader) -> EventsSpec? {
        guard let node, let map = reader.mapping(node, field: "events", allowed: ["id", "order-key", "order-by"]) else { return nil }
        guard let id = reader.string(map["id"], field: "events.id") else {
            if map["id"] == nil { reader.problem("events.id", node, "missing required key 'id' (the column with each event's unique id)") }
            return nil
        }
        let events = EventsSpec(
            id: id, orderKey: reader.string(map["order-key"], field: "events.order-key"),
            orderBy: reader.string(map["order-by"], field: "events.order-by"))
        for (field, name) in [("events.id", events.id), ("events.order-key", events.orderKey), ("events.order-by", events.orderBy)] {
            if let name, !Identifier.isValid(name) {
                reader.problem(field, map[String(field.dropFirst("events.".count))], "invalid column name '\(name)': \(Identifier.rule)")
            }
        }
        return events
    }

    private static func keyColumns(_ node: Node?, reader: inout SpecNodeReader) -> [String]? {
        guard let node else {
            reader.problem("key", nil, "missing required key 'key' (the stable key, e.g. key: [id])")
            return nil
        }
        guard let key = reader.stringList(node, field: "key") else { return nil }
        if key.isEmpty { reader.problem("key", node, "name at least one key column") }
        checkIdentifiers(key, field: "key", node: node, reader: &reader)
        if Set(key.map { $0.lowercased() }).count != key.count { reader.problem("key", node, "a key column is named twice") }
        return key
    }

    private static func columnList(_ node: Node?, reader: inout SpecNodeReader) -> [String]? {
        guard let node else { return nil }
        guard case .sequence = node, let columns = reader.stringList(node, field: "columns") else {
            reader.problem("columns", node, "expected a list of column names")
            return nil
        }
        if columns.isEmpty { reader.problem("columns", node, "name at least one column, or leave 'columns' out for all") }
        checkIdentifiers(columns, field: "columns", node: node, reader: &reader)
        if Set(columns.map { $0.lowercased() }).count != columns.count {
            reader.problem("columns", node, "a column is named twice")
        }
        return columns
    }

    private static func checkIdentifiers(_ names: [String], field: String, node: Node, reader: inout SpecNodeReader) {
        let items: [Node] = if case .sequence(let seq) = node { Array(seq) } else { [node] }
        for (index, name) in names.enumerated() where !Identifier.isValid(name) {
            let itemNode = index < items.count ? items[index] : node
            reader.problem("\(field)[\(index)]", itemNode, "invalid column name '\(name)': \(Identifier.rule)")
        }
    }

    /// `set: {column: SQL expression}`, sorted by column.
    private static func setExpressions(_ node: Node?, reader: inout SpecNodeReader) -> [ColumnExpression] {
        guard let node, let map = node.mapping else {
            if node != nil { reader.problem("set", node, "must be a mapping of column: SQL expression") }
            return []
        }
        var expressions: [ColumnExpression] = []
        for (keyNode, valueNode) in map {
            guard let column = keyNode.string, Identifier.isValid(column) else {
                reader.problem("set", keyNode, "'\(keyNode.string ?? "")' is not a column name: \(Identifier.rule)")
                continue
            }
            guard let expression = reader.string(valueNode, field: "set.\(column)"), !expression.isEmpty else { continue }
            expressions.append(ColumnExpression(column: column, expression: expression))
        }
        return expressions.sorted { $0.column < $1.column }
    }

    /// `update-in-place` needs `set:` and one PostgreSQL table; `set:` needs that mode.
    private static func checkInPlace(
        mode: WriteMode, set: [ColumnExpression], source: Endpoint, target: Endpoint, top: [String: Node], reader: inout SpecNodeReader
    ) {
        guard mode == .updateInPlace else {
            if !set.isEmpty { reader.problem("set", top["set"], "set: applies only to mode: update-in-place") }
            return
        }
        if set.isEmpty { reader.problem("set", top["set"] ?? top["mode"], "mode update-in-place needs set: {column: SQL expression}") }
        if source.kind != .postgres { reader.problem("source", top["source"], "mode update-in-place updates a PostgreSQL table; name it as source: {postgres: DSN, table: T}") }
        if target != source { reader.problem("target", top["target"], "mode update-in-place updates the source table itself; leave target out") }
        if top["columns"] != nil { reader.problem("columns", top["columns"], "columns do not apply to update-in-place; set: names what is written") }
    }

    private static func writeMode(_ node: Node?, reader: inout SpecNodeReader) -> WriteMode? {
        guard let node else { return .upsert }
        guard let text = reader.string(node, field: "mode") else { return nil }
        guard let mode = WriteMode(rawValue: text) else {
            let all = WriteMode.allCases.map(\.rawValue).joined(separator: ", ")
            reader.problem("mode", node, "unknown mode '\(text)'; use one of \(all)")
            return nil
        }
        return mode
    }

    private static func conflict(_ node: Node?, reader: inout SpecNodeReader) -> String? {
        guard let node, let map = reader.mapping(node, field: "conflict", allowed: ["newer-wins"]) else { return nil }
        guard let column = reader.string(map["newer-wins"], field: "conflict.newer-wins") else { return nil }
        if !Identifier.isValid(column) {
            reader.problem("conflict.newer-wins", map["newer-wins"], "invalid column name '\(column)'")
        }
        return column
    }

    private static func rangeSpec(_ node: Node?, reader: inout SpecNodeReader) -> RangeSpec? {
        guard let node else { return RangeSpec() }
        guard let map = reader.mapping(node, field: "range", allowed: ["where", "from", "to"]) else { return nil }
        let whereClause = reader.string(map["where"], field: "range.where")
        if let whereClause, whereClause.contains(";") {
            reader.problem("range.where", map["where"], "must be one condition without ';'")
        }
        return RangeSpec(
            whereClause: whereClause,
            from: reader.keyValues(map["from"], field: "range.from"),
            to: reader.keyValues(map["to"], field: "range.to"))
    }

    private static func batchSpec(_ node: Node?, reader: inout SpecNodeReader) -> BatchSpec? {
        guard let node else { return BatchSpec() }
        guard let map = reader.mapping(node, field: "batch", allowed: ["size", "target-duration", "min", "max"]) else {
            return nil
        }
        var batch = BatchSpec()
        if let v = reader.integer(map["size"], field: "batch.size", range: 1...100_000) { batch.size = v }
        if let v = reader.duration(map["target-duration"], field: "batch.target-duration") {
            batch.targetDuration = v
            batch.adaptive = true
        }
        if let v = reader.integer(map["min"], field: "batch.min", range: 1...100_000) { batch.min = v }
        if let v = reader.integer(map["max"], field: "batch.max", range: 1...100_000) { batch.max = v }
        if batch.min > batch.max { reader.problem("batch.min", map["min"], "min (\(batch.min)) is larger than max (\(batch.max))") }
        if map["size"] != nil, !(batch.min...max(batch.min, batch.max)).contains(batch.size) {
            reader.problem("batch.size", map["size"], "size \(batch.size) is outside min..max (\(batch.min)..\(batch.max))")
        }
        batch.size = min(max(batch.size, batch.min), batch.max)
        return batch
    }

    private static func limitsSpec(_ node: Node?, reader: inout SpecNodeReader) -> LimitsSpec? {
        guard let node else { return LimitsSpec() }
        let allowed = [
            "rows-per-second", "retries", "max-error-rate", "batches-per-second", "backoff", "pause-file", "circuit",
            "lock-timeout", "statement-timeout", "accept-quarantined", "wal-bytes-per-second", "bytes-per-second",
        ]
        guard let map = reader.mapping(node, field: "limits", allowed: allowed) else { return nil }
        var limits = LimitsSpec()
        limits.batchesPerSecond = reader.number(map["batches-per-second"], field: "limits.batches-per-second", range: 0.01...100_000)
        if let v = reader.duration(map["backoff"], field: "limits.backoff") { limits.backoff = v }
        if let v = reader.duration(map["lock-timeout"], field: "limits.lock-timeout") { limits.lockTimeout = v }
        if let v = reader.duration(map["statement-timeout"], field: "limits.statement-timeout") { limits.statementTimeout = v }
        if let node = map["circuit"], let circuit = reader.mapping(node, field: "limits.circuit", allowed: ["failures", "cool-down"]) {
            if let v = reader.integer(circuit["failures"], field: "limits.circuit.failures", range: 1...1000) { limits.circuitFailures = v }
            if let v = reader.duration(circuit["cool-down"], field: "limits.circuit.cool-down") { limits.circuitCoolDown = v }
        }
        limits.rowsPerSecond = reader.number(map["rows-per-second"], field: "limits.rows-per-second", range: 0.1...10_000_000)
        limits.walBytesPerSecond = reader.byteSize(map["wal-bytes-per-second"], field: "limits.wal-bytes-per-second")
        limits.bytesPerSecond = reader.byteSize(map["bytes-per-second"], field: "limits.bytes-per-second")
        if let v = reader.integer(map["retries"], field: "limits.retries", range: 0...100) { limits.retries = v }
        limits.maxErrorRate = reader.number(map["max-error-rate"], field: "limits.max-error-rate", range: 0...1)
        limits.pauseFile = reader.string(map["pause-file"], field: "limits.pause-file")
        if let v = reader.boolean(map["accept-quarantined"], field: "limits.accept-quarantined") { limits.acceptQuarantined = v }
        return limits
    }
}
