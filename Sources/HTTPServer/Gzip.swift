import CZlib

/// gzip content coding (RFC 9110 §8.4.1.3, RFC 1952) through zlib, for responses that are worth it.
public enum Gzip {
    /// Bodies smaller than this are sent as they are: the header costs more than it saves.
    public static let minimumBytes = 1024

    /// The body compressed at `level` (1 fast … 9 small), or nil if zlib fails.
    public static func compress(_ input: [UInt8], level: Int32 = 6) -> [UInt8]? {
        var stream = z_stream()
        guard pickupbox_gzip_init(&stream, level) == Z_OK else { return nil }
        defer { deflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(input.count))) + 32)
        let status: Int32 = input.withUnsafeBufferPointer { inBuffer in
            output.withUnsafeMutableBufferPointer { outBuffer in
                // zlib does not write through next_in; the cast only satisfies its C signature.
                stream.next_in = UnsafeMutablePointer(mutating: inBuffer.baseAddress)
                stream.avail_in = uInt(inBuffer.count)
                stream.next_out = outBuffer.baseAddress
                stream.avail_out = uInt(outBuffer.count)
                return deflate(&stream, Z_FINISH)
            }
        }
        guard status == Z_STREAM_END else { return nil }
        output.removeSubrange(Int(stream.total_out)...)
        return output
    }

    /// Whether the request's `Accept-Encoding` allows gzip (RFC 9110 §12.5.3): listed (or `*`) with a
    /// q-value above 0, and not refused by name.
    public static func isAccepted(by request: Request) -> Bool {
        var gzip: Double?
        var any: Double?
        for header in request.headers.values("Accept-Encoding") {
            for item in header.split(separator: ",") {
                let parts = item.split(separator: ";")
                let coding = parts.first?.trimmingASCIISpaces().lowercased() ?? ""
                var q = 1.0
                for parameter in parts.dropFirst() {
                    let p = parameter.trimmingASCIISpaces().lowercased()
                    if p.hasPrefix("q="), let value = Double(p.dropFirst(2)) { q = value }
                }
                if coding == "gzip" || coding == "x-gzip" { gzip = q } else if coding == "*" { any = q }
            }
        }
        return (gzip ?? any ?? 0) > 0
    }
}

extension Response {
    /// This response gzip-coded when the request accepts it and the body is large and compressible
    /// (JSON, text, CSV, JavaScript, CSS, SVG); always marked `Vary: Accept-Encoding`.
    public func compressed(for request: Request) -> Response {
        guard body.count >= Gzip.minimumBytes, headers["Content-Encoding"] == nil,
              let type = headers["Content-Type"]?.lowercased(), Self.isCompressible(type) else { return self }
        var response = self
        response.headers.set("Vary", "Accept-Encoding")
        guard Gzip.isAccepted(by: request), let coded = Gzip.compress(body), coded.count < body.count else { return response }
        response.body = coded
        response.headers.set("Content-Encoding", "gzip")
        return response
    }

    public static func isCompressible(_ type: String) -> Bool {
        type.hasPrefix("application/json") || type.hasPrefix("text/") || type.hasPrefix("image/svg+xml") || type.hasSuffix("+json")
    }
}
