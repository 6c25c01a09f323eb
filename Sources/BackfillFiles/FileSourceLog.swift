import BackfillCore
import Logging

/// The log lines file sources write, through the task-local logger the caller set up.
enum FileSourceLog {
    static func batchRead(_ batch: SourceBatch) {
        Logger.current.trace(
            "file batch read",
            metadata: [
                LogKey.batchRows: .stringConvertible(batch.rows.count),
                LogKey.quarantined: .stringConvertible(batch.rejected.count),
                LogKey.cursor: .string(batch.cursor?.byteOffset.map(String.init) ?? "end"),
            ])
        if !batch.rejected.isEmpty {
            Logger.current.debug(
                "malformed records rejected",
                metadata: [
                    LogKey.quarantined: .stringConvertible(batch.rejected.count),
                    LogKey.reason: .string(batch.rejected[0].reason),
                ])
        }
    }
}
