import Crypto
import Foundation
import HTTPServer

/// The browser frontend's files (`Sources/App/Public`, shipped as the App target's resources): found
/// next to the executable wherever it is started, never relative to the working directory.
///
/// Files are read once at start and served from memory under `/assets/<version>/…`, where the
/// version is a hash of all files: a changed file changes every URL, so the files can be cached for
/// a year (`immutable`). With `PICKUPBOX_WEB_DIR` (development) they are read from disk on every
/// request instead and never cached, so an edit shows at the next reload.
final class WebAssets: Sendable {
    struct Asset: Sendable {
        let body: [UInt8]
        let contentType: String
        let etag: String
        /// The body gzip-coded once at start, when that is smaller.
        var gzipped: [UInt8]? = nil
    }

    /// Where the files were found.
    let root: String
    /// Hash of every file's path and content (12 hex digits).
    let version: String
    /// Read from disk per request, never cached (development).
    let live: Bool
    private let files: [String: Asset]
    private let staticFiles: StaticFiles

    /// The name of the resource bundle SwiftPM writes next to the executable.
    static let bundleName = "pickupbox_App.resources"

    /// Where the files are looked for when `PICKUPBOX_WEB_DIR` is not set.
    static func defaultCandidates() -> [String] {
        var candidates: [String] = []
        for directory in ShippedFiles.executableDirectories() {
            candidates.append(directory + "/" + bundleName + "/Public")
            // An installed layout: bin/pickupbox with share/pickupbox/Public.
            candidates.append(((directory as NSString).deletingLastPathComponent as NSString).appendingPathComponent("share/pickupbox/Public"))
        }
        return candidates
    }

    /// Finds and loads the files: `override` (live) or the first default candidate with an index.html.
    static func load(override: String?) throws -> WebAssets {
        if let override {
            guard FileManager.default.fileExists(atPath: override + "/index.html") else {
                throw AppConfiguration.Invalid(problems: ["PICKUPBOX_WEB_DIR: no index.html in \(override)"])
            }
            return try WebAssets(root: override, live: true)
        }
        let candidates = defaultCandidates()
        guard let root = candidates.first(where: { FileManager.default.fileExists(atPath: $0 + "/index.html") }) else {
            throw AppConfiguration.Invalid(problems: ["the web frontend's files were not found; looked in: " + candidates.joined(separator: ", ") + " (set PICKUPBOX_WEB_DIR)"])
        }
        return try WebAssets(root: root, live: false)
    }

    init(root: String, live: Bool) throws {
        self.root = root
        self.live = live
        self.staticFiles = StaticFiles(root: root)
        var files: [String: Asset] = [:]
        var hashInput: [UInt8] = []
        let base = URL(fileURLWithPath: root).standardizedFileURL.resolvingSymlinksInPath().path
        guard let enumerator = FileManager.default.enumerator(atPath: base) else {
            throw AppConfiguration.Invalid(problems: ["cannot read the web files in \(root)"])
        }
        var paths: [String] = []
        while let path = enumerator.nextObject() as? String {
            guard !path.split(separator: "/").contains(where: { $0.hasPrefix(".") }), Self.contentType(for: path) != nil else { continue }
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: base + "/" + path, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
            paths.append(path)
        }
        for path in paths.sorted() {
            guard let data = FileManager.default.contents(atPath: base + "/" + path), let type = Self.contentType(for: path) else {
                throw AppConfiguration.Invalid(problems: ["cannot read the web file \(path)"])
            }
            let body = Array(data)
            let gzipped = Response.isCompressible(type) && body.count >= Gzip.minimumBytes ? Gzip.compress(body, level: 9) : nil
            files[path] = Asset(body: body, contentType: type, etag: "\"" + Crypto.hex(Array(Crypto.sha256(body).prefix(8))) + "\"",
                                gzipped: gzipped.flatMap { $0.count < body.count ? $0 : nil })
            hashInput += Array(path.utf8) + [0] + Crypto.sha256(body)
        }
        self.files = files
        self.version = String(Crypto.hex(Crypto.sha256(hashInput)).prefix(12))
    }

    static func contentType(for path: String) -> String? {
        switch (path as NSString).pathExtension.lowercased() {
        case "html": return "text/html; charset=utf-8"
        case "css": return "text/css; charset=utf-8"
        case "js": return "text/javascript; charset=utf-8"
        case "svg": return "image/svg+xml"
        case "png": return "image/png"
        case "json": return "application/json"
        case "woff2": return "font/woff2"
        case "txt": return "text/plain; charset=utf-8"
        default: return nil
        }
    }

    /// The policy every HTML page gets: scripts, styles, images and calls from this origin only; no
    /// inline script or style, no eval, no framing, no plugins, forms submit only here.
    static let contentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; font-src 'self'; "
        + "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

    /// Headers of every HTML answer (the server adds `X-Content-Type-Options: nosniff` and `X-Frame-Options: DENY`).
    static func htmlHeaders() -> HTTPHeaders {
        [
            "Content-Type": "text/html; charset=utf-8",
            "Content-Security-Policy": contentSecurityPolicy,
            "Referrer-Policy": "same-origin",
            "Cache-Control": "no-cache",
        ]
    }

    /// An HTML file of the frontend with `{{v}}` replaced by the asset version, as a page.
    func page(_ name: String, request: Request) -> Response {
        guard let asset = asset(name) else { return StaticFiles.notFound }
        let html = String(decoding: asset.body, as: UTF8.self).replacingOccurrences(of: "{{v}}", with: version)
        let body = Array(html.utf8)
        var headers = Self.htmlHeaders()
        let etag = "\"" + Crypto.hex(Array(Crypto.sha256(body).prefix(8))) + "\""
        headers.set("ETag", etag)
        if Self.matches(request, etag) { return Response(status: .notModified, headers: headers) }
        return Response(status: .ok, headers: headers, body: body)
    }

    /// `GET /assets/<version>/<path>`: `encodedPath` is still percent-encoded.
    func respond(to request: Request, version requestedVersion: String, encodedPath: String) -> Response {
        if live {
            var response = staticFiles.respond(to: request, encodedPath: encodedPath)
            response.headers.set("Content-Security-Policy", Self.contentSecurityPolicy)
            return response.compressed(for: request)
        }
        guard let path = PercentDecoding.decode(encodedPath), let asset = files[path] else { return StaticFiles.notFound }
        // Only the current version may be cached for long: an old page asking for an old version
        // gets today's file, which must not be stored under the old name.
        var headers: HTTPHeaders = [
            "Content-Type": asset.contentType,
            "ETag": asset.etag,
            "Cache-Control": requestedVersion == version ? "public, max-age=31536000, immutable" : "no-cache",
            "Content-Security-Policy": Self.contentSecurityPolicy,
        ]
        if asset.gzipped != nil { headers.set("Vary", "Accept-Encoding") }
        if Self.matches(request, asset.etag) {
            headers.remove("Content-Type")
            return Response(status: .notModified, headers: headers)
        }
        if let gzipped = asset.gzipped, Gzip.isAccepted(by: request) {
            headers.set("Content-Encoding", "gzip")
            return Response(status: .ok, headers: headers, body: gzipped)
        }
        return Response(status: .ok, headers: headers, body: asset.body)
    }

    /// A file by its path relative to the root (live: from disk).
    func asset(_ path: String) -> Asset? {
        guard live else { return files[path] }
        guard let type = Self.contentType(for: path), !path.split(separator: "/").contains(where: { $0.hasPrefix(".") }),
              let data = FileManager.default.contents(atPath: root + "/" + path) else { return nil }
        let body = Array(data)
        return Asset(body: body, contentType: type, etag: "\"" + Crypto.hex(Array(Crypto.sha256(body).prefix(8))) + "\"")
    }

    /// The total size of the files (for the page-weight test).
    var totalBytes: Int { files.values.reduce(0) { $0 + $1.body.count } }

    private static func matches(_ request: Request, _ etag: String) -> Bool {
        guard let inm = request.headers["If-None-Match"] else { return false }
        return inm.split(separator: ",").contains { $0.trimmingCharacters(in: .whitespaces) == etag || $0.trimmingCharacters(in: .whitespaces) == "*" }
    }
}
