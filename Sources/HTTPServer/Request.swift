import Foundation

/// One complete request as a handler sees it.
public struct Request: Sendable {
    public let method: HTTPMethod
    /// The raw request target (path and query, still percent-encoded). Never log it: it may carry data.
    public let target: String
    /// HTTP minor version (0 or 1).
    public let minorVersion: Int
    public let headers: HTTPHeaders
    public let body: [UInt8]
    /// Path parameters of the matched route, percent-decoded once.
    public let parameters: [String: String]
    /// The route pattern that matched (`/api/v1/applications/{id}`), or "unmatched".
    public let route: String
    /// From a valid `X-Request-Id` header, or generated.
    public let requestID: String
    /// The peer address, without port.
    public let remoteAddress: String
    /// What the route's `Admission.admit` returned before the body was read (e.g. the session's
    /// principal); nil for requests without a body or routes without admission.
    public let admitted: (any Sendable)?
    /// How the request arrived: plain, or over TLS with or without a verified client certificate.
    public let transport: Transport

    /// The connection a request came over.
    public enum Transport: Sendable, Equatable {
        case plain
        /// TLS; `clientCertificate` is the subject of a client certificate that verified against the
        /// server's client CAs (mutual TLS), nil when the client presented none.
        case tls(clientCertificate: String?)

        /// The subject of a verified client certificate, if any.
        public var clientCertificate: String? {
            if case .tls(let subject) = self { return subject }
            return nil
        }
    }

    public init(
        method: HTTPMethod, target: String, minorVersion: Int = 1, headers: HTTPHeaders = [:], body: [UInt8] = [],
        parameters: [String: String] = [:], route: String = "unmatched", requestID: String = "test", remoteAddress: String = "127.0.0.1",
        admitted: (any Sendable)? = nil, transport: Transport = .plain
    ) {
        self.admitted = admitted
        self.method = method
        self.target = target
        self.minorVersion = minorVersion
        self.headers = headers
        self.body = body
        self.parameters = parameters
        self.route = route
        self.requestID = requestID
        self.remoteAddress = remoteAddress
        self.transport = transport
    }

    /// The path part of the target, still percent-encoded.
    public var path: Substring {
        if let q = target.firstIndex(of: "?") { return target[..<q] }
        return target[...]
    }

    /// The query string without "?", still encoded, or nil.
    public var rawQuery: Substring? {
        guard let q = target.firstIndex(of: "?") else { return nil }
        return target[target.index(after: q)...]
    }

    /// Query parameters, decoded (`+` as space, percent-decoding once). Malformed encodings throw 400.
    public func queryParameters() throws -> QueryParameters {
        try QueryParameters(parsing: rawQuery ?? "")
    }

    /// A path parameter; a missing one is a programmer error in the route table.
    public func parameter(_ name: String) -> String {
        guard let value = parameters[name] else {
            preconditionFailure("route \(route) has no parameter \(name)")
        }
        return value
    }
}

extension Request {
    /// The same request with its body and what the route's admission returned (the admission sees the head alone).
    func with(body: [UInt8], admitted: (any Sendable)?) -> Request {
        Request(
            method: method, target: target, minorVersion: minorVersion, headers: headers, body: body, parameters: parameters,
            route: route, requestID: requestID, remoteAddress: remoteAddress, admitted: admitted, transport: transport
        )
    }
}

/// Decoded query parameters in order.
public struct QueryParameters: Sendable {
    public private(set) var items: [(name: String, value: String)] = []

    public init(parsing query: Substring) throws {
        guard !query.isEmpty else { return }
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = PercentDecoding.decode(parts[0], plusAsSpace: true),
                  let value = PercentDecoding.decode(parts.count > 1 ? parts[1] : "", plusAsSpace: true) else {
                throw HTTPError(.badRequest, code: "invalid_query", message: "The query string has a malformed percent-encoding.")
            }
            items.append((name: name, value: value))
        }
    }

    public subscript(name: String) -> String? {
        items.first { $0.name == name }?.value
    }

    public func all(_ name: String) -> [String] {
        items.filter { $0.name == name }.map(\.value)
    }
}

/// Percent-decoding (RFC 3986 §2.1), applied exactly once.
public enum PercentDecoding {
    /// nil for a malformed escape or bytes that are not UTF-8.
    public static func decode<S: StringProtocol>(_ s: S, plusAsSpace: Bool = false) -> String? {
        let utf8 = s.utf8
        if !utf8.contains(ASCII.percent) && !(plusAsSpace && utf8.contains(UInt8(ascii: "+"))) {
            return String(s)
        }
        var out = [UInt8]()
        out.reserveCapacity(utf8.count)
        var it = utf8.makeIterator()
        while let b = it.next() {
            if b == ASCII.percent {
                guard let h = it.next(), let l = it.next(), let hv = ASCII.hexValue(h), let lv = ASCII.hexValue(l) else { return nil }
                out.append(UInt8(hv * 16 + lv))
            } else if plusAsSpace && b == UInt8(ascii: "+") {
                out.append(ASCII.space)
            } else {
                out.append(b)
            }
        }
        // NUL is never valid in a path segment or query value (and cannot reach PostgreSQL).
        guard !out.contains(0) else { return nil }
        return String(validating: out, as: UTF8.self)
    }
}
