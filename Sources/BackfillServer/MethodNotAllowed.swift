import Hummingbird

/// Answers a request for a known path with a method that path does not take with 405 and `Allow`
/// (RFC 9110 §15.5.6), instead of the router's 404: `TRACE /healthz`, `DELETE /api/runs/1`, `QUERY /`.
struct MethodNotAllowed: RouterMiddleware {
    typealias Context = BasicRequestContext
    /// Path patterns (`api/runs/:id`, a `:` segment matches any one segment) and their methods.
    let routes: [(path: String, methods: [HTTPRequest.Method])]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let segments = request.uri.path.split(separator: "/")
        guard let route = routes.first(where: { Self.matches($0.path, segments) }), !route.methods.contains(request.method) else {
            return try await next(request, context)
        }
        let allow = route.methods.map(\.rawValue).joined(separator: ", ")
        return Response(
            status: .methodNotAllowed, headers: [.allow: allow, .contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: #"{"error":{"message":"method not allowed; use \#(allow)"}}"#)))
    }

    private static func matches(_ pattern: String, _ segments: [Substring]) -> Bool {
        let parts = pattern.split(separator: "/")
        return parts.count == segments.count && zip(parts, segments).allSatisfy { $0.hasPrefix(":") || $0 == $1 }
    }
}
