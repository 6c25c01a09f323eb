import NIOCore
import NIOPosix

/// Whether anything listens on a server's TCP port: one plain connection attempt, closed at once.
///
/// The connection pool retries a refused connection quietly until its connect timeout; this tells a
/// refused port (no server there) at once, so `connect` can say so instead of waiting.
enum ServerReachability {
    /// `true` when the host's address refused the connection (nothing listens on the port); `false`
    /// when it accepted, or did not answer within `timeout` (the pool's own timeout then decides).
    static func refuses(host: String, port: Int, timeout: TimeAmount = .seconds(2)) async -> Bool {
        let bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connectTimeout(timeout)
        do {
            let channel = try await bootstrap.connect(host: host, port: port).get()
            try? await channel.close()
            return false
        } catch let error as NIOConnectionError {
            return !error.connectionErrors.isEmpty && error.connectionErrors.allSatisfy { attempt in
                (attempt.error as? IOError)?.errnoCode == ECONNREFUSED
            }
        } catch let error as IOError {
            return error.errnoCode == ECONNREFUSED
        } catch {
            return false
        }
    }
}
