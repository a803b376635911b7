import CCurl
import Synchronization

/// A blocking HTTP client over one reused libcurl easy handle.
///
/// - One handle for the client's life, so libcurl keeps the connection (and TLS session) alive between sends.
/// - TLS peer and host verification stay on; `caFile` replaces the system trust store for on-premise gateways.
/// - Redirects are not followed: a 3xx becomes `.redirect`.
/// - The body is capped at `maxResponseBytes`: the write callback aborts the transfer past the cap.
/// - `post` blocks the calling thread for up to `totalTimeout`: call it from a dedicated thread
///   (the dispatcher's), never from the Swift concurrency pool.
///
/// `@unchecked Sendable`: the easy handle is only touched inside `lock.withLock` (one transfer at a time,
/// as libcurl requires per handle) and in `deinit`, when no other reference exists.
public final class CurlHTTPClient: @unchecked Sendable {
    private let handle: UnsafeMutableRawPointer
    private let lock = Mutex(())
    private let caFile: String?
    private let connectTimeoutMilliseconds: Int
    private let totalTimeoutMilliseconds: Int
    private let maxResponseBytes: Int

    /// Creates a client with the transport settings of `configuration` (CA file, time-outs, body cap).
    public init(configuration: GatewayConfiguration) {
        _ = curlGlobalInit
        guard let handle = curl_easy_init() else {
            preconditionFailure("curl_easy_init failed (out of memory)")
        }
        self.handle = handle
        self.caFile = configuration.caFile
        self.connectTimeoutMilliseconds = configuration.connectTimeout.curlMilliseconds
        self.totalTimeoutMilliseconds = configuration.totalTimeout.curlMilliseconds
        self.maxResponseBytes = configuration.maxResponseBytes
    }

    deinit {
        curl_easy_cleanup(handle)
    }

    /// POSTs `body` to `url` and returns the reply, whatever its status; transport failures throw.
    public func post(url: String, headers: [(String, String)], body: [UInt8]) throws(SMSError) -> HTTPReply {
        let result: Result<HTTPReply, SMSError> = lock.withLock { _ in
            do throws(SMSError) {
                return .success(try perform(url: url, headers: headers, body: body))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    private func perform(url: String, headers: [(String, String)], body: [UInt8]) throws(SMSError) -> HTTPReply {
        // Options persist on a reused handle: reset them all, then set everything this request needs.
        // curl_easy_reset keeps the connection cache, DNS cache and TLS session cache (keep-alive survives).
        curl_easy_reset(handle)

        for header in headers {
            // Checked on bytes: "\r\n" is a single Character, so a Character comparison would miss it.
            precondition(!header.0.utf8.contains(where: { $0 == 13 || $0 == 10 || $0 == UInt8(ascii: ":") }), "invalid header name")
            if header.1.utf8.contains(where: { $0 == 13 || $0 == 10 || $0 == 0 }) {
                throw SMSError(.invalidConfiguration, reason: "header value contains a line break")
            }
        }
        var list: UnsafeMutablePointer<curl_slist>? = nil
        defer { curl_slist_free_all(list) }
        // An empty "Expect:" stops curl from waiting for "100 Continue" before sending larger bodies.
        for line in headers.map({ "\($0.0): \($0.1)" }) + ["Expect:"] {
            guard let appended = curl_slist_append(list, line) else { preconditionFailure("curl_slist_append failed") }
            list = appended
        }

        let sink = ReplySink(limit: maxResponseBytes)
        let sinkPointer = Unmanaged.passRetained(sink)
        defer { sinkPointer.release() }

        let code: CURLcode = body.withUnsafeBufferPointer { bodyBuffer in
            // CURLOPT_POSTFIELDS is not copied: the buffer must outlive curl_easy_perform, which it does here.
            var status = CURLE_OK
            func set(_ result: CURLcode) { if status == CURLE_OK { status = result } }
            set(pb_curl_setopt_string(handle, CURLOPT_URL, url))
            set(pb_curl_setopt_string(handle, CURLOPT_PROTOCOLS_STR, "http,https"))
            set(pb_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1))
            set(pb_curl_setopt_long(handle, CURLOPT_FOLLOWLOCATION, 0))
            set(pb_curl_setopt_long(handle, CURLOPT_SSL_VERIFYPEER, 1))
            set(pb_curl_setopt_long(handle, CURLOPT_SSL_VERIFYHOST, 2))
            if let caFile { set(pb_curl_setopt_string(handle, CURLOPT_CAINFO, caFile)) }
            set(pb_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, connectTimeoutMilliseconds))
            set(pb_curl_setopt_long(handle, CURLOPT_TIMEOUT_MS, totalTimeoutMilliseconds))
            set(pb_curl_setopt_off(handle, CURLOPT_MAXFILESIZE_LARGE, curl_off_t(maxResponseBytes)))
            set(pb_curl_setopt_long(handle, CURLOPT_POST, 1))
            set(pb_curl_setopt_ptr(handle, CURLOPT_POSTFIELDS, UnsafeRawPointer(bodyBuffer.baseAddress) ?? UnsafeRawPointer(emptyBody)))
            set(pb_curl_setopt_off(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(bodyBuffer.count)))
            set(pb_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, list))
            set(pb_curl_setopt_datafn(handle, CURLOPT_WRITEFUNCTION, replySinkWriteBody))
            set(pb_curl_setopt_ptr(handle, CURLOPT_WRITEDATA, sinkPointer.toOpaque()))
            set(pb_curl_setopt_datafn(handle, CURLOPT_HEADERFUNCTION, replySinkWriteHeader))
            set(pb_curl_setopt_ptr(handle, CURLOPT_HEADERDATA, sinkPointer.toOpaque()))
            guard status == CURLE_OK else { return status }
            return curl_easy_perform(handle)
        }

        guard code == CURLE_OK else {
            throw Self.error(for: code, sink: sink)
        }
        var status = 0
        _ = pb_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        return HTTPReply(status: status, headers: sink.headers, body: sink.body)
    }

    /// Maps a failed transfer to a kind. The curl error text is not used: it may quote the URL.
    static func error(for code: CURLcode, sink: ReplySink) -> SMSError {
        let number = Int(code.rawValue)
        func make(_ kind: SMSError.Kind, _ reason: String) -> SMSError { SMSError(kind, reason: reason, curlCode: number) }
        if sink.exceededLimit { return make(.bodyTooLarge, "reply larger than the configured maximum") }
        switch code {
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY:
            return make(.dns, "gateway host name could not be resolved")
        case CURLE_COULDNT_CONNECT, CURLE_SEND_ERROR:
            return make(.connect, "could not connect to the gateway")
        case CURLE_OPERATION_TIMEDOUT:
            return make(.timeout, "gateway did not answer in time")
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER,
             CURLE_SSL_CACERT_BADFILE, CURLE_SSL_ENGINE_NOTFOUND, CURLE_SSL_ENGINE_SETFAILED,
             CURLE_SSL_ENGINE_INITFAILED, CURLE_SSL_SHUTDOWN_FAILED, CURLE_SSL_CRL_BADFILE, CURLE_SSL_ISSUER_ERROR,
             CURLE_SSL_PINNEDPUBKEYNOTMATCH, CURLE_SSL_INVALIDCERTSTATUS, CURLE_SSL_CLIENTCERT, CURLE_USE_SSL_FAILED:
            return make(.tls, "TLS handshake with the gateway failed")
        case CURLE_FILESIZE_EXCEEDED:
            return make(.bodyTooLarge, "reply larger than the configured maximum")
        case CURLE_GOT_NOTHING, CURLE_RECV_ERROR, CURLE_PARTIAL_FILE:
            return make(.replyLost, "the connection broke before the gateway's reply was complete")
        case CURLE_UNSUPPORTED_PROTOCOL, CURLE_URL_MALFORMAT:
            return make(.invalidConfiguration, "gateway URL is not a valid http(s) URL")
        default:
            return make(.unreadableBody, "transfer failed while reading the reply")
        }
    }
}

/// `curl_global_init` once per process (Swift initialises globals exactly once, thread-safely).
private let curlGlobalInit: Void = {
    let code = curl_global_init(Int(CURL_GLOBAL_DEFAULT))
    precondition(code == CURLE_OK, "curl_global_init failed")
}()

/// A non-null pointer for an empty POST body (curl would otherwise read the body from the read callback).
nonisolated(unsafe) private let emptyBody = UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 1)

/// Collects one reply; owned by one `perform` call and passed to the C callbacks as `userdata`.
final class ReplySink {
    let limit: Int
    var body: [UInt8] = []
    var headers: [(String, String)] = []
    var exceededLimit = false

    init(limit: Int) {
        self.limit = limit
    }

    func appendBody(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard body.count + bytes.count <= limit else {
            exceededLimit = true
            return false
        }
        body.append(contentsOf: bytes)
        return true
    }

    func appendHeaderLine(_ bytes: UnsafeRawBufferPointer) {
        let line = String(decoding: bytes, as: UTF8.self)
        if line.hasPrefix("HTTP/") {
            headers.removeAll()  // a new status line: an interim 1xx reply came first
            return
        }
        guard let colon = line.firstIndex(of: ":") else { return }
        let name = line[..<colon].lowercased()
        let value = line[line.index(after: colon)...].trimmingWhitespace()
        headers.append((name, value))
    }
}

private let replySinkWriteBody: pb_curl_data_fn = { data, size, count, userdata in
    let total = size * count
    guard let userdata else { return 0 }
    let sink = Unmanaged<ReplySink>.fromOpaque(userdata).takeUnretainedValue()
    guard total > 0, let data else { return total }
    // Returning anything other than `total` makes curl abort with CURLE_WRITE_ERROR.
    return sink.appendBody(UnsafeRawBufferPointer(start: data, count: total)) ? total : 0
}

private let replySinkWriteHeader: pb_curl_data_fn = { data, size, count, userdata in
    let total = size * count
    guard let userdata, let data else { return total }
    let sink = Unmanaged<ReplySink>.fromOpaque(userdata).takeUnretainedValue()
    // Header lines are bounded by curl (CURL_MAX_HTTP_HEADER, 100 KiB); keep at most 64 headers.
    if sink.headers.count < 64 {
        sink.appendHeaderLine(UnsafeRawBufferPointer(start: data, count: total))
    }
    return total
}

extension StringProtocol {
    /// Without spaces, tabs, CR and LF at either end (on scalars: "\r\n" is one Character).
    func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        let isSpace: (Unicode.Scalar) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" }
        guard let first = scalars.firstIndex(where: { !isSpace($0) }), let last = scalars.lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        var result = ""
        result.unicodeScalars.append(contentsOf: scalars[first...last])
        return result
    }
}
