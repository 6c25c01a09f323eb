import BackfillCore
import GRDB

/// The state store's tables, created and upgraded by a GRDB migrator.
enum StateSchema {
    static let counterColumns = Counters.columnNames

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            let counters = Counters.firstColumnNames.map { "\($0) INTEGER NOT NULL DEFAULT 0" }.joined(separator: ",\n")
            try db.execute(sql: """
                CREATE TABLE runs (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    job TEXT NOT NULL,
                    fingerprint TEXT NOT NULL,
                    status TEXT NOT NULL,
                    reason TEXT,
                    created_at REAL NOT NULL,
                    updated_at REAL NOT NULL,
                    finished_at REAL,
                    active_seconds REAL NOT NULL DEFAULT 0,
                    chunks_total INTEGER NOT NULL,
                    chunks_done INTEGER NOT NULL DEFAULT 0,
                    estimated_rows INTEGER NOT NULL,
                    owner TEXT,
                    \(counters)
                );
                CREATE INDEX runs_by_job ON runs (job, id);
                CREATE TABLE chunks (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    run_id INTEGER NOT NULL REFERENCES runs (id),
                    idx INTEGER NOT NULL,
                    range TEXT NOT NULL,
                    estimated_rows INTEGER NOT NULL,
                    status TEXT NOT NULL,
                    cursor TEXT,
                    \(counters),
                    UNIQUE (run_id, idx)
                );
                CREATE TABLE quarantine (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    run_id INTEGER NOT NULL REFERENCES runs (id),
                    chunk_idx INTEGER NOT NULL,
                    key TEXT,
                    line INTEGER,
                    error_type TEXT NOT NULL,
                    reason TEXT NOT NULL,
                    row TEXT,
                    raw TEXT,
                    at REAL NOT NULL
                );
                CREATE INDEX quarantine_by_run ON quarantine (run_id, id);
                CREATE TABLE events (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    run_id INTEGER NOT NULL REFERENCES runs (id),
                    at REAL NOT NULL,
                    kind TEXT NOT NULL,
                    message TEXT NOT NULL
                );
                CREATE INDEX events_by_run ON events (run_id, id);
                """)
        }
        migrator.registerMigration("v2: knobs") { db in
            try db.execute(sql: "ALTER TABLE runs ADD COLUMN knobs TEXT")
        }
        migrator.registerMigration("v3: waited seconds") { db in
            try db.execute(sql: "ALTER TABLE runs ADD COLUMN waited_seconds REAL NOT NULL DEFAULT 0")
        }
        migrator.registerMigration("v4: resolved quarantine") { db in
            try db.execute(sql: "ALTER TABLE quarantine ADD COLUMN resolved_at REAL")
        }
        migrator.registerMigration("v5: waits and batch size") { db in
            try db.execute(sql: "ALTER TABLE runs ADD COLUMN waits TEXT")
            try db.execute(sql: "ALTER TABLE runs ADD COLUMN batch_size INTEGER")
        }
        migrator.registerMigration("v6: last verification") { db in
            try db.execute(sql: "ALTER TABLE runs ADD COLUMN last_verification TEXT")
        }
        migrator.registerMigration("v7: delivery ledger") { db in
            try db.execute(sql: "CREATE TABLE ledger (job TEXT NOT NULL, event_id TEXT NOT NULL, at REAL NOT NULL, PRIMARY KEY (job, event_id)) WITHOUT ROWID")
        }
        migrator.registerMigration("v8: samples") { db in
            let counters = Counters.firstColumnNames.map { "\($0) INTEGER NOT NULL" }.joined(separator: ", ")
            try db.execute(sql: """
                CREATE TABLE samples (
                    run_id INTEGER NOT NULL REFERENCES runs (id), at REAL NOT NULL, \(counters),
                    active_seconds REAL NOT NULL, batch_size INTEGER, chunks_done INTEGER NOT NULL);
                CREATE INDEX samples_by_run ON samples (run_id, at);
                """)
        }
        migrator.registerMigration("v9: shipped rows and bytes") { db in
            for table in ["runs", "chunks", "samples"] {
                try db.execute(sql: "ALTER TABLE \(table) ADD COLUMN shipped_rows INTEGER NOT NULL DEFAULT 0")
                try db.execute(sql: "ALTER TABLE \(table) ADD COLUMN shipped_bytes INTEGER NOT NULL DEFAULT 0")
            }
        }
        migrator.registerMigration("v10: hash bytes") { db in
            for table in ["runs", "chunks", "samples"] {
                try db.execute(sql: "ALTER TABLE \(table) ADD COLUMN source_hash_bytes INTEGER NOT NULL DEFAULT 0")
                try db.execute(sql: "ALTER TABLE \(table) ADD COLUMN target_hash_bytes INTEGER NOT NULL DEFAULT 0")
            }
        }
        migrator.registerMigration("v11: the spec a run was started with") { db in
            try db.execute(sql: "ALTER TABLE runs ADD COLUMN spec TEXT")
        }
        return migrator
    }
}
