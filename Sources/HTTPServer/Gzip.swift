import CZlib
#if canImport(Glibc)
import Glibc
#endif

/// gzip content coding (RFC 9110 §8.4.1.3, RFC 1952) through zlib, for responses that are worth it.
public enum Gzip {
    /// Bodies smaller than this are sent as they are: the header costs more than it saves.
    public static let minimumBytes = 1024
    /// The level for responses made per request (pages, JSON): the fastest, as nginx's default
    /// `gzip_comp_level 1` — a few per cent larger than level 6 for a page of a few kilobytes, at a
    /// fraction of the CPU. Files that are compressed once at start use 9.
    public static let dynamicLevel: Int32 = 1

    /// The body compressed at `level` (1 fast … 9 small), or nil if zlib fails. The compressor's state
    /// (about 256 KiB) is kept per thread and reset between bodies: allocating it per response costs
    /// more than compressing a page (fresh pages, zeroed, returned to the kernel at once).
    public static func compress(_ input: [UInt8], level: Int32 = 6) -> [UInt8]? {
        guard let compressor = Compressor.forThisThread(level: level) else { return nil }
        return compressor.compress(input)
    }

    /// One zlib deflate stream, owned by one thread (so `@unchecked Sendable` is never exercised: the
    /// thread-specific slot hands it only to its own thread).
    final class Compressor: @unchecked Sendable {
        private var stream = z_stream()
        let level: Int32
        private let ready: Bool

        private init(level: Int32) {
            self.level = level
            ready = pickupbox_gzip_init(&stream, level) == Z_OK
        }

        deinit { if ready { deflateEnd(&stream) } }

        /// The slot's destructor releases the thread's compressors when the thread ends.
        private static let slot: pthread_key_t = {
            var key = pthread_key_t()
            let created = pthread_key_create(&key) { pointer in
                if let pointer { Unmanaged<Box>.fromOpaque(pointer).release() }
            }
            precondition(created == 0, "pthread_key_create failed")
            return key
        }()

        /// This thread's compressors by level.
        private final class Box {
            var byLevel: [Int32: Compressor] = [:]
        }

        static func forThisThread(level: Int32) -> Compressor? {
            let box: Box
            if let pointer = pthread_getspecific(slot) {
                box = Unmanaged<Box>.fromOpaque(pointer).takeUnretainedValue()
            } else {
                box = Box()
                pthread_setspecific(slot, Unmanaged.passRetained(box).toOpaque())
            }
            if let existing = box.byLevel[level] { return existing }
            let made = Compressor(level: level)
            guard made.ready else { return nil }
            box.byLevel[level] = made
            return made
        }

        func compress(_ input: [UInt8]) -> [UInt8]? {
            guard deflateReset(&stream) == Z_OK else { return nil }
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
            // Nothing of the caller's buffers stays referenced by the stream.
            stream.next_in = nil
            stream.next_out = nil
            guard status == Z_STREAM_END else { return nil }
            output.removeSubrange(Int(stream.total_out)...)
            return output
        }
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
        guard Gzip.isAccepted(by: request), let coded = Gzip.compress(body, level: Gzip.dynamicLevel), coded.count < body.count else { return response }
        response.body = coded
        response.headers.set("Content-Encoding", "gzip")
        return response
    }

    public static func isCompressible(_ type: String) -> Bool {
        type.hasPrefix("application/json") || type.hasPrefix("text/") || type.hasPrefix("image/svg+xml") || type.hasSuffix("+json")
    }
}
