import Foundation

/// Serves files from one directory: no way out of it (`..`, encoded variants, symlinks that point
/// elsewhere, dot-files), content types by extension, `ETag` and `304 Not Modified`.
public struct StaticFiles: Sendable {
    public let root: String
    private let resolvedRoot: String

    public init(root: String) {
        self.root = root
        let resolved = URL(fileURLWithPath: root).standardizedFileURL.resolvingSymlinksInPath().path
        self.resolvedRoot = resolved.hasSuffix("/") ? resolved : resolved + "/"
    }

    static let contentTypes: [String: String] = [
        "html": "text/html; charset=utf-8", "css": "text/css; charset=utf-8", "js": "text/javascript; charset=utf-8",
        "mjs": "text/javascript; charset=utf-8", "json": "application/json", "svg": "image/svg+xml", "png": "image/png",
        "jpg": "image/jpeg", "jpeg": "image/jpeg", "ico": "image/x-icon", "txt": "text/plain; charset=utf-8",
        "woff2": "font/woff2", "webmanifest": "application/manifest+json", "map": "application/json",
    ]

    /// Answers `GET`/`HEAD` for `encodedPath` (still percent-encoded, relative to the root; empty → index.html).
    public func respond(to request: Request, encodedPath: String) -> Response {
        var segments: [String] = []
        for raw in encodedPath.split(separator: "/", omittingEmptySubsequences: false) {
            guard let segment = PercentDecoding.decode(raw) else { return Self.notFound }
            if segment.isEmpty { continue }
            // Decoded once; anything that could climb or hide is refused.
            if segment.hasPrefix(".") || segment.contains("/") || segment.contains("\\") || segment.contains("\0") {
                return Self.notFound
            }
            segments.append(segment)
        }
        if segments.isEmpty || encodedPath.hasSuffix("/") { segments.append("index.html") }
        let candidate = resolvedRoot + segments.joined(separator: "/")
        // Resolve symlinks and check that the real file is still inside the root.
        guard let real = realPath(candidate), real.hasPrefix(resolvedRoot) else { return Self.notFound }
        var info = stat()
        guard stat(real, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return Self.notFound }
        let mtime = Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
        let etag = "\"\(String(info.st_size, radix: 16))-\(String(mtime, radix: 16))\""
        var headers: HTTPHeaders = [
            "ETag": etag,
            "Cache-Control": "no-cache",
        ]
        if let inm = request.headers["If-None-Match"], inm.split(separator: ",").contains(where: { $0.trimmingASCIISpaces() == etag || $0.trimmingASCIISpaces() == "*" }) {
            return Response(status: .notModified, headers: headers)
        }
        guard let data = FileManager.default.contents(atPath: real) else { return Self.notFound }
        let ext = (segments.last ?? "").split(separator: ".").last.map { $0.lowercased() } ?? ""
        headers.set("Content-Type", Self.contentTypes[ext] ?? "application/octet-stream")
        return Response(status: .ok, headers: headers, body: Array(data))
    }

    private func realPath(_ path: String) -> String? {
        guard let p = realpath(path, nil) else { return nil }
        defer { free(p) }
        return String(cString: p)
    }

    public static let notFound = Response.error(.notFound, code: "not_found", message: "No such resource.")
}
