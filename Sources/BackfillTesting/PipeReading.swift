import Foundation

extension Pipe {
    /// Everything written to the pipe until its writers close it. Reads with `read(2)` and repeats
    /// a read a signal interrupted: Foundation's `readDataToEndOfFile` traps on `EINTR` (seen when
    /// a whole suite's child processes come and go at once).
    public func readAll() -> Data {
        let descriptor = fileHandleForReading.fileDescriptor
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = read(descriptor, &buffer, buffer.count)
            if count > 0 {
                data.append(buffer, count: count)
            } else if count < 0, errno == EINTR {
                continue
            } else {
                return data
            }
        }
    }
}
