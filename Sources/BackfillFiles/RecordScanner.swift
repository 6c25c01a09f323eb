/// Turns the bytes of a file format into rows and rejected records, a buffer at a time.
///
/// `FileBatchReader` owns the file and the buffer; a scanner only ever sees bytes in memory, which
/// keeps the format logic free of I/O and lets it be tested on plain byte arrays.
protocol RecordScanner {
    /// Why a record that outgrew the size limit is rejected, for the quarantine.
    var oversizeReason: String { get }

    /// The offset, from the start of the record that `scan` left incomplete, after which the reader
    /// resynchronises at the next line feed if that record outgrows the size limit; `nil` to
    /// resynchronise after the last byte read so far.
    var resynchronisationStart: Int? { get }

    /// Consumes whole records from the front of `bytes` into `batch` until the batch is full or the
    /// next record runs past the end of `bytes`.
    ///
    /// - Parameter atEnd: `bytes` runs to the end of the file, so every byte must be consumed: a
    ///   record without a final line break is complete, an open quote is unterminated.
    /// - Returns: the number of bytes consumed (whole records and skipped blank lines).
    mutating func scan(_ bytes: UnsafeBufferPointer<UInt8>, atEnd: Bool, into batch: inout BatchBuilder) -> Int
}
