import DecimalParsing
/// Limits the parser enforces before it buffers more (RFC 9112 §2.3 lets a server bound every part).
public struct HTTPParserLimits: Sendable {
    /// Longest request line; beyond it 414.
    public var maxRequestLineBytes = 8 * 1024
    /// Largest header block (all field lines); beyond it 431.
    public var maxHeaderBytes = 16 * 1024
    /// Most header fields; beyond it 431.
    public var maxHeaderCount = 100
    /// Longest chunk extension (RFC 9112 §7.1.1: a server ought to limit it).
    public var maxChunkExtensionBytes = 256

    public init() {}
}

/// A malformed or over-limit request. The connection answers it and closes.
public struct HTTPParseError: Error, Equatable, Sendable {
    public let status: HTTPStatus
    public let code: String
    public let message: String

    static func bad(_ code: String, _ message: String) -> HTTPParseError {
        HTTPParseError(status: .badRequest, code: code, message: message)
    }

    public static func == (a: HTTPParseError, b: HTTPParseError) -> Bool { a.status == b.status && a.code == b.code }
}

/// How the message body is delimited (RFC 9112 §6.3).
enum BodyFraming: Equatable {
    case none
    case length(Int)
    case chunked
}

/// The request line and header section of one request.
struct RequestHead {
    var method: HTTPMethod
    var target: String
    var minorVersion: Int
    var headers: HTTPHeaders
    var keepAlive: Bool
    var expectContinue: Bool
    var framing: BodyFraming
}

/// An incremental, strict HTTP/1.1 request parser (RFC 9112). Feed it the connection's input buffer
/// after every read; it consumes what it has parsed and never buffers beyond its limits.
struct HTTPRequestParser {
    enum Event {
        case needMore
        case head(RequestHead)
        /// The whole body has arrived (empty for requests without one); the next request may follow.
        case complete([UInt8])
        case error(HTTPParseError)
    }

    private enum State {
        case head
        case emptyBody
        case lengthBody(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailers(bytesSeen: Int, fieldsSeen: Int)
    }

    let limits: HTTPParserLimits
    /// Set by the connection once it knows the route; chunked bodies are checked against it as they arrive.
    var bodyLimit = Int.max
    private var state = State.head
    private var body: [UInt8] = []
    /// Where the search for the end of the head resumes, so a head sent byte by byte is scanned once.
    private var scanOffset = 0

    init(limits: HTTPParserLimits) {
        self.limits = limits
    }

    /// True when no part of a request has been parsed (the connection is between requests).
    var isIdle: Bool {
        if case .head = state { return scanOffset == 0 }
        return false
    }

    /// The bytes of a `Content-Length` body still to come, once its head is parsed; nil otherwise.
    var unreadBodyLength: Int? {
        if case .lengthBody(let remaining) = state { return remaining }
        return nil
    }

    mutating func next(_ buffer: inout InputBuffer) -> Event {
        switch state {
        case .head:
            return parseHead(&buffer)
        case .emptyBody:
            state = .head
            return .complete([])
        case .lengthBody(let remaining):
            let take = min(remaining, buffer.count)
            if take > 0 {
                body.append(contentsOf: buffer.bytes[buffer.start..<(buffer.start + take)])
                buffer.consume(take)
            }
            if remaining - take == 0 { return finishBody() }
            state = .lengthBody(remaining: remaining - take)
            return .needMore
        case .chunkSize, .chunkData, .chunkDataEnd, .trailers:
            return parseChunked(&buffer)
        }
    }

    private mutating func finishBody() -> Event {
        state = .head
        let done = body
        body = []
        return .complete(done)
    }

    // MARK: - Head

    private mutating func parseHead(_ buffer: inout InputBuffer) -> Event {
        // RFC 9112 §2.2: a server SHOULD ignore at least one empty line before the request line.
        while buffer.count >= 2 && buffer[0] == ASCII.cr && buffer[1] == ASCII.lf && scanOffset == 0 {
            buffer.consume(2)
        }
        let count = buffer.count
        if count == 0 { return .needMore }
        // A lone CR may be the first half of such an empty line, its LF still in flight: wait for it
        // rather than take the CR for a request line (a fuzzer found the split answered 400).
        if count == 1 && buffer[0] == ASCII.cr && scanOffset == 0 { return .needMore }
        return buffer.bytes.withUnsafeBufferPointer { all -> Event in
            let base = buffer.start
            // The request line ends at the first LF.
            var lineEnd = -1
            let lineSearchLimit = min(count, limits.maxRequestLineBytes + 2)
            var i = 0
            while i < lineSearchLimit {
                if all[base + i] == ASCII.lf { lineEnd = i; break }
                i += 1
            }
            if lineEnd < 0 {
                if count > limits.maxRequestLineBytes + 1 {
                    return .error(HTTPParseError(status: .uriTooLong, code: "request_line_too_long", message: "The request line is longer than \(limits.maxRequestLineBytes) bytes."))
                }
                scanOffset = max(scanOffset, 1)
                return .needMore
            }
            // The head ends at CRLF CRLF; the search resumes where the last one stopped.
            var headEnd = -1
            var j = max(scanOffset, lineEnd + 2)
            if lineEnd >= 1 && all[base + lineEnd - 1] == ASCII.cr, count > lineEnd + 2,
               all[base + lineEnd + 1] == ASCII.cr, all[base + lineEnd + 2] == ASCII.lf {
                headEnd = lineEnd + 2
            }
            while headEnd < 0 && j < count {
                if all[base + j] == ASCII.lf && all[base + j - 1] == ASCII.cr && j >= 3
                    && all[base + j - 2] == ASCII.lf && all[base + j - 3] == ASCII.cr {
                    headEnd = j
                    break
                }
                j += 1
            }
            if headEnd < 0 {
                if count - lineEnd - 1 > limits.maxHeaderBytes + 2 {
                    return .error(HTTPParseError(status: .requestHeaderFieldsTooLarge, code: "header_too_large", message: "The header section is larger than \(limits.maxHeaderBytes) bytes."))
                }
                scanOffset = max(1, count - 3)
                return .needMore
            }
            if headEnd - lineEnd - 1 > limits.maxHeaderBytes + 2 {
                return .error(HTTPParseError(status: .requestHeaderFieldsTooLarge, code: "header_too_large", message: "The header section is larger than \(limits.maxHeaderBytes) bytes."))
            }
            let head = UnsafeBufferPointer(rebasing: all[base..<(base + headEnd + 1)])
            let result = Self.parseHeadBytes(head, requestLineEnd: lineEnd, limits: limits)
            switch result {
            case .failure(let error):
                return .error(error)
            case .success(let parsed):
                buffer.consume(headEnd + 1)
                scanOffset = 0
                switch parsed.framing {
                case .none, .length(0): state = .emptyBody
                case .length(let n): state = .lengthBody(remaining: n)
                case .chunked: state = .chunkSize
                }
                body = []
                return .head(parsed)
            }
        }
    }

    private static func parseHeadBytes(_ head: UnsafeBufferPointer<UInt8>, requestLineEnd: Int, limits: HTTPParserLimits) -> Result<RequestHead, HTTPParseError> {
        // Request line: method SP request-target SP HTTP-version CRLF (RFC 9112 §3).
        guard requestLineEnd >= 1, head[requestLineEnd - 1] == ASCII.cr else {
            return .failure(.bad("invalid_request_line", "The request line must end with CRLF."))
        }
        let line = UnsafeBufferPointer(rebasing: head[0..<(requestLineEnd - 1)])
        guard let firstSpace = line.firstIndex(of: ASCII.space) else {
            return .failure(.bad("invalid_request_line", "The request line is malformed."))
        }
        let methodBytes = Array(line[0..<firstSpace])
        guard !methodBytes.isEmpty, methodBytes.allSatisfy({ ASCII.tchar[Int($0)] }) else {
            return .failure(.bad("invalid_method", "The request method is malformed."))
        }
        guard let method = HTTPMethod(bytes: methodBytes[...]) else {
            return .failure(.bad("unknown_method", "The request method is not supported."))
        }
        let rest = line[(firstSpace + 1)...]
        guard let secondSpace = rest.firstIndex(of: ASCII.space) else {
            return .failure(.bad("invalid_request_line", "The request line is malformed."))
        }
        var targetBytes = line[(firstSpace + 1)..<secondSpace]
        let versionBytes = line[(secondSpace + 1)...]
        // Origin-form (RFC 9112 §3.2.1), or absolute-form, which a server MUST accept (§3.2.2): its authority
        // is checked and its path and query are used as the origin-form (an empty path is "/").
        // Authority-form (CONNECT) and asterisk-form (OPTIONS *) are refused.
        var impliedSlash = false
        if targetBytes.first != ASCII.slash {
            switch Self.absoluteFormPath(targetBytes) {
            case .failure(let error): return .failure(error)
            case .success(let path):
                targetBytes = path
                impliedSlash = path.first != ASCII.slash
            }
        }
        var k = targetBytes.startIndex
        while k < targetBytes.endIndex {
            let b = targetBytes[k]
            guard ASCII.targetByte[Int(b)] else {
                return .failure(.bad("invalid_target", "The request target contains a byte that is not allowed."))
            }
            if b == ASCII.percent {
                guard k + 2 < targetBytes.endIndex,
                      ASCII.hexValue(targetBytes[k + 1]) != nil, ASCII.hexValue(targetBytes[k + 2]) != nil else {
                    return .failure(.bad("invalid_target", "The request target has a malformed percent-encoding."))
                }
                k += 3
                continue
            }
            k += 1
        }
        let minorVersion: Int
        if versionBytes.elementsEqual("HTTP/1.1".utf8) {
            minorVersion = 1
        } else if versionBytes.elementsEqual("HTTP/1.0".utf8) {
            minorVersion = 0
        } else if versionBytes.count == 8, versionBytes.starts(with: "HTTP/".utf8),
                  let major = versionBytes.dropFirst(5).first, (48...57).contains(major),
                  versionBytes[versionBytes.startIndex + 6] == UInt8(ascii: "."),
                  let minor = versionBytes.last, (48...57).contains(minor) {
            // RFC 9110 §6.2: a higher minor version of a major version we implement is processed as the
            // highest minor version we conform to (HTTP/1.9 as HTTP/1.1); only another major version is refused.
            guard major == UInt8(ascii: "1") else {
                return .failure(HTTPParseError(status: .httpVersionNotSupported, code: "http_version_not_supported", message: "Only HTTP/1.x is supported."))
            }
            minorVersion = 1
        } else {
            return .failure(.bad("invalid_request_line", "The HTTP version is malformed."))
        }

        // Field lines (RFC 9112 §5).
        var headers = HTTPHeaders()
        var p = requestLineEnd + 1
        let end = head.count - 2  // the final CRLF
        while p < end {
            guard let lf = UnsafeBufferPointer(rebasing: head[p..<head.count]).firstIndex(of: ASCII.lf).map({ $0 + p }) else {
                return .failure(.bad("invalid_header", "A header line is not terminated."))
            }
            guard lf > p, head[lf - 1] == ASCII.cr else {
                return .failure(.bad("invalid_header", "Header lines must end with CRLF; a bare LF is not allowed."))
            }
            let fieldLine = UnsafeBufferPointer(rebasing: head[p..<(lf - 1)])
            p = lf + 1
            if fieldLine.isEmpty { break }
            if headers.count >= limits.maxHeaderCount {
                return .failure(HTTPParseError(status: .requestHeaderFieldsTooLarge, code: "too_many_headers", message: "More than \(limits.maxHeaderCount) header fields."))
            }
            switch parseFieldLine(fieldLine) {
            case .failure(let e): return .failure(e)
            case .success(let field): headers.add(field.0, field.1)
            }
        }
        return interpret(method: method, target: targetBytes, impliedSlash: impliedSlash, minorVersion: minorVersion, headers: headers)
    }

    /// The path and query of an absolute-form target `http(s)://authority[path][?query]` (RFC 9112 §3.2.2),
    /// whose authority must be a valid host without userinfo (RFC 9110 §4.2.4) and must not be empty (§4.2.1).
    static func absoluteFormPath(_ target: Slice<UnsafeBufferPointer<UInt8>>) -> Result<Slice<UnsafeBufferPointer<UInt8>>, HTTPParseError> {
        let invalid = HTTPParseError.bad("invalid_target", "The request target must be an absolute path or an http(s) URI.")
        var i = target.startIndex
        let scheme: [UInt8]
        if target.count >= 7, target.prefix(7).map(ASCII.lower).elementsEqual("http://".utf8) {
            scheme = Array("http://".utf8)
        } else if target.count >= 8, target.prefix(8).map(ASCII.lower).elementsEqual("https://".utf8) {
            scheme = Array("https://".utf8)
        } else {
            return .failure(invalid)
        }
        i += scheme.count
        var authorityEnd = i
        while authorityEnd < target.endIndex, target[authorityEnd] != ASCII.slash, target[authorityEnd] != ASCII.question {
            authorityEnd += 1
        }
        let authority = target[i..<authorityEnd]
        guard !authority.isEmpty, isValidHost(authority) else { return .failure(invalid) }
        return .success(target[authorityEnd...])
    }

    /// Host = uri-host [ ":" port ] (RFC 9110 §7.2, RFC 3986 §3.2.2): an IP-literal in brackets, or a reg-name /
    /// IPv4 address of unreserved, sub-delims and percent-encoded bytes; the port is digits. Empty is allowed.
    static func isValidHost<C: Collection>(_ host: C) -> Bool where C.Element == UInt8, C.Index == Int {
        var i = host.startIndex
        if i < host.endIndex, host[i] == UInt8(ascii: "[") {
            // IP-literal: IPv6address or IPvFuture, checked for its alphabet (hex digits, ":", ".", "v", sub-delims).
            i += 1
            let start = i
            while i < host.endIndex, host[i] != UInt8(ascii: "]") {
                guard ASCII.ipLiteralByte[Int(host[i])] else { return false }
                i += 1
            }
            guard i < host.endIndex, i > start else { return false }
            i += 1
        } else {
            while i < host.endIndex, host[i] != ASCII.colon {
                let b = host[i]
                if b == ASCII.percent {
                    guard i + 2 < host.endIndex, ASCII.hexValue(host[i + 1]) != nil, ASCII.hexValue(host[i + 2]) != nil else { return false }
                    i += 3
                    continue
                }
                guard ASCII.regNameByte[Int(b)] else { return false }
                i += 1
            }
        }
        guard i < host.endIndex else { return true }
        guard host[i] == ASCII.colon else { return false }
        let port = host[(i + 1)...]
        return port.count <= 5 && port.allSatisfy { $0 >= 48 && $0 <= 57 }
    }

    static func parseFieldLine(_ line: UnsafeBufferPointer<UInt8>) -> Result<(String, String), HTTPParseError> {
        guard let first = line.first else { return .failure(.bad("invalid_header", "Empty header line.")) }
        if first == ASCII.space || first == ASCII.tab {
            // RFC 9112 §5.2: obsolete line folding is rejected with 400.
            return .failure(.bad("obsolete_line_folding", "Header line folding (obs-fold) is not allowed."))
        }
        guard let colon = line.firstIndex(of: ASCII.colon) else {
            return .failure(.bad("invalid_header", "A header line has no colon."))
        }
        guard colon > 0 else { return .failure(.bad("invalid_header", "A header name is empty.")) }
        for i in 0..<colon {
            let b = line[i]
            if b == ASCII.space || b == ASCII.tab {
                // RFC 9112 §5.1: no whitespace between field name and colon; 400.
                return .failure(.bad("whitespace_before_colon", "Whitespace between a header name and the colon is not allowed."))
            }
            guard ASCII.tchar[Int(b)] else {
                return .failure(.bad("invalid_header", "A header name contains a character that is not allowed."))
            }
        }
        var vs = colon + 1
        var ve = line.count
        while vs < ve && (line[vs] == ASCII.space || line[vs] == ASCII.tab) { vs += 1 }
        while ve > vs && (line[ve - 1] == ASCII.space || line[ve - 1] == ASCII.tab) { ve -= 1 }
        for i in vs..<ve where !ASCII.fieldValueByte[Int(line[i])] {
            return .failure(.bad("invalid_header", "A header value contains a control character (NUL, CR, LF or other)."))
        }
        let name = String(decoding: UnsafeBufferPointer(rebasing: line[0..<colon]), as: UTF8.self)
        let value = String(decoding: UnsafeBufferPointer(rebasing: line[vs..<ve]), as: UTF8.self)
        return .success((name, value))
    }

    private static func interpret(method: HTTPMethod, target: Slice<UnsafeBufferPointer<UInt8>>, impliedSlash: Bool, minorVersion: Int, headers: HTTPHeaders) -> Result<RequestHead, HTTPParseError> {
        // One pass over the fields for everything framing and connection handling need.
        var hostCount = 0
        var hostIsValid = true
        var connectionClose = false
        var connectionKeepAlive = false
        var transferEncodings: [String] = []
        var contentLengths: [String] = []
        var expect: String?
        for (name, value) in headers {
            switch name.utf8.count {
            case 4 where name.asciiCaseInsensitiveEquals("Host"):
                hostCount += 1
                hostIsValid = hostIsValid && isValidHost(Array(value.utf8))
            case 6 where name.asciiCaseInsensitiveEquals("Expect"):
                expect = value
            case 10 where name.asciiCaseInsensitiveEquals("Connection"):
                for token in value.split(separator: ",") {
                    let t = token.trimmingASCIISpaces()
                    if t.count == 5 && String(t).asciiCaseInsensitiveEquals("close") { connectionClose = true }
                    if t.count == 10 && String(t).asciiCaseInsensitiveEquals("keep-alive") { connectionKeepAlive = true }
                }
            case 14 where name.asciiCaseInsensitiveEquals("Content-Length"):
                contentLengths.append(value)
            case 17 where name.asciiCaseInsensitiveEquals("Transfer-Encoding"):
                transferEncodings.append(value)
            default:
                break
            }
        }
        if minorVersion == 1 && hostCount != 1 {
            // RFC 9112 §3.2: exactly one Host in HTTP/1.1.
            return .failure(.bad("invalid_host", hostCount == 0 ? "The Host header is missing." : "More than one Host header."))
        }
        if hostCount > 1 { return .failure(.bad("invalid_host", "More than one Host header.")) }
        // RFC 9112 §3.2: a Host header with an invalid field value MUST get 400.
        if !hostIsValid { return .failure(.bad("invalid_host", "The Host header is not a valid host and port.")) }
        let keepAlive = minorVersion == 1 ? !connectionClose : (connectionKeepAlive && !connectionClose)

        var framing = BodyFraming.none
        if !transferEncodings.isEmpty {
            // RFC 9112 §6.1: TE with CL is a smuggling signal; HTTP/1.0 must not use TE.
            if !contentLengths.isEmpty {
                return .failure(.bad("conflicting_framing", "Content-Length and Transfer-Encoding together are not allowed."))
            }
            if minorVersion == 0 {
                return .failure(.bad("invalid_transfer_encoding", "Transfer-Encoding is not allowed in HTTP/1.0."))
            }
            guard transferEncodings.count == 1, transferEncodings[0].asciiCaseInsensitiveEquals("chunked") else {
                return .failure(.bad("invalid_transfer_encoding", "Only Transfer-Encoding: chunked is supported."))
            }
            framing = .chunked
        } else if !contentLengths.isEmpty {
            var length: Int?
            for value in contentLengths {
                // RFC 9112 §6.3: a malformed or conflicting Content-Length is unrecoverable.
                guard let n = parseContentLength(value) else {
                    return .failure(.bad("invalid_content_length", "Content-Length must be a decimal number of at most 18 digits."))
                }
                if let l = length, l != n {
                    return .failure(.bad("invalid_content_length", "Two different Content-Length values."))
                }
                length = n
            }
            framing = .length(length ?? 0)
        }

        var expectContinue = false
        if let expect {
            guard expect.asciiCaseInsensitiveEquals("100-continue") else {
                return .failure(HTTPParseError(status: .expectationFailed, code: "expectation_failed", message: "Only Expect: 100-continue is supported."))
            }
            expectContinue = minorVersion == 1
        }

        return .success(RequestHead(
            method: method,
            target: (impliedSlash ? "/" : "") + String(decoding: UnsafeBufferPointer(rebasing: target), as: UTF8.self),
            minorVersion: minorVersion,
            headers: headers,
            keepAlive: keepAlive,
            expectContinue: expectContinue,
            framing: framing
        ))
    }

    /// `Content-Length = 1*DIGIT` (RFC 9110 §8.6), at most 18 digits.
    static func parseContentLength(_ value: String) -> Int? {
        guard value.utf8.count <= 18 else { return nil }
        return Int(decimal: value)
    }

    // MARK: - Chunked body (RFC 9112 §7.1)

    private mutating func parseChunked(_ buffer: inout InputBuffer) -> Event {
        while true {
            switch state {
            case .chunkSize:
                let lineLimit = 16 + 2 + limits.maxChunkExtensionBytes
                guard let lf = findLF(buffer, limit: lineLimit + 1) else {
                    if buffer.count > lineLimit {
                        return .error(.bad("invalid_chunk", "A chunk size line is too long (size or extensions over the limit)."))
                    }
                    return .needMore
                }
                guard lf >= 1, buffer[lf - 1] == ASCII.cr else {
                    return .error(.bad("invalid_chunk", "A chunk size line must end with CRLF."))
                }
                var size = 0
                var digits = 0
                var i = 0
                while i < lf - 1, let v = ASCII.hexValue(buffer[i]) {
                    digits += 1
                    if digits > 8 {
                        return .error(.bad("invalid_chunk", "A chunk size is too large."))
                    }
                    size = size * 16 + v
                    i += 1
                }
                guard digits > 0 else { return .error(.bad("invalid_chunk", "A chunk size is malformed.")) }
                // What follows the size may only be chunk extensions: BWS ";" ...
                if i < lf - 1 {
                    var e = i
                    while e < lf - 1 && (buffer[e] == ASCII.space || buffer[e] == ASCII.tab) { e += 1 }
                    guard e < lf - 1, buffer[e] == ASCII.semicolon else {
                        return .error(.bad("invalid_chunk", "A chunk size is malformed."))
                    }
                    if lf - 1 - i > limits.maxChunkExtensionBytes {
                        return .error(.bad("invalid_chunk", "Chunk extensions are longer than \(limits.maxChunkExtensionBytes) bytes."))
                    }
                    for x in e..<(lf - 1) where !ASCII.fieldValueByte[Int(buffer[x])] {
                        return .error(.bad("invalid_chunk", "A chunk extension contains a control character."))
                    }
                }
                buffer.consume(lf + 1)
                if size == 0 {
                    state = .trailers(bytesSeen: 0, fieldsSeen: 0)
                } else {
                    if size > bodyLimit - body.count {
                        return .error(HTTPParseError(status: .contentTooLarge, code: "body_too_large", message: "The request body is larger than \(bodyLimit) bytes."))
                    }
                    state = .chunkData(remaining: size)
                }
            case .chunkData(let remaining):
                let take = min(remaining, buffer.count)
                if take == 0 { return .needMore }
                body.append(contentsOf: buffer.bytes[buffer.start..<(buffer.start + take)])
                buffer.consume(take)
                state = remaining - take == 0 ? .chunkDataEnd : .chunkData(remaining: remaining - take)
            case .chunkDataEnd:
                if buffer.count < 2 { return .needMore }
                guard buffer[0] == ASCII.cr, buffer[1] == ASCII.lf else {
                    return .error(.bad("invalid_chunk", "Chunk data must be followed by CRLF."))
                }
                buffer.consume(2)
                state = .chunkSize
            case .trailers(let bytesSeen, let fieldsSeen):
                let remainingBytes = limits.maxHeaderBytes - bytesSeen
                guard let lf = findLF(buffer, limit: remainingBytes + 2) else {
                    if buffer.count > remainingBytes + 1 {
                        return .error(HTTPParseError(status: .requestHeaderFieldsTooLarge, code: "header_too_large", message: "The trailer section is too large."))
                    }
                    return .needMore
                }
                guard lf >= 1, buffer[lf - 1] == ASCII.cr else {
                    return .error(.bad("invalid_chunk", "Trailer lines must end with CRLF."))
                }
                if lf == 1 {
                    buffer.consume(2)
                    return finishBody()
                }
                if fieldsSeen >= limits.maxHeaderCount {
                    return .error(HTTPParseError(status: .requestHeaderFieldsTooLarge, code: "too_many_headers", message: "Too many trailer fields."))
                }
                // Trailer fields are checked for syntax and then discarded (RFC 9112 §7.1.2).
                let line = Array(buffer.bytes[buffer.start..<(buffer.start + lf - 1)])
                let checked = line.withUnsafeBufferPointer { Self.parseFieldLine($0) }
                if case .failure(let e) = checked { return .error(e) }
                buffer.consume(lf + 1)
                state = .trailers(bytesSeen: bytesSeen + lf + 1, fieldsSeen: fieldsSeen + 1)
            default:
                return .needMore
            }
        }
    }

    private func findLF(_ buffer: InputBuffer, limit: Int) -> Int? {
        let n = min(buffer.count, limit)
        var i = 0
        while i < n {
            if buffer[i] == ASCII.lf { return i }
            i += 1
        }
        return nil
    }
}

extension Substring {
    func trimmingASCIISpaces() -> Substring {
        var s = self
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return s
    }
}
