/// Where a handler runs.
public enum Execution: Sendable {
    /// On the worker pool (default): the handler may block (libpq).
    case worker
    /// Inline on the event loop: only for handlers that never block and finish in microseconds.
    case eventLoop
}

/// A handler: answers at once, or takes a `Responder` and answers later from any thread
/// without holding a worker (long polls).
public enum RouteHandler: Sendable {
    case respond(@Sendable (Request) throws -> Response)
    case deferred(@Sendable (Request, Responder) throws -> Void)
    /// Takes a `Responder` and answers when its own I/O is done (a query on the loop's database pipeline),
    /// without holding a worker. Unlike `deferred` it is not a long poll: a client that closes its
    /// sending side still gets the answer.
    case asynchronous(@Sendable (Request, Responder) throws -> Void)
}

/// Who may send a body to a route, decided from the request head before any of the body is read, so
/// that a client without credentials cannot make the server hold its body (and `100 Continue` is sent
/// only to admitted requests). Requests without a body skip it: their handler checks access as usual.
public struct Admission: Sendable {
    /// On the event loop, from the head alone and without I/O (is a credential there at all?):
    /// a response refuses the request.
    public var screen: (@Sendable (Request) -> Response?)?
    /// On a worker, from the head alone (it may query the database): returns what the handler finds in
    /// `Request.admitted`, or throws to refuse (the error becomes the answer).
    public var admit: (@Sendable (Request) throws -> (any Sendable)?)?

    public init(screen: (@Sendable (Request) -> Response?)? = nil, admit: (@Sendable (Request) throws -> (any Sendable)?)? = nil) {
        self.screen = screen
        self.admit = admit
    }
}

/// One entry of the route table.
public struct Route: Sendable {
    public let method: HTTPMethod
    /// `/api/v1/applications/{id}`; a last segment `{name...}` takes the rest of the path, still
    /// percent-encoded (the handler decodes it once, e.g. static files).
    public let pattern: String
    public let handler: RouteHandler
    /// Overrides the server's body limit for this route.
    public let maxBodyBytes: Int?
    public let execution: Execution
    /// Decides access from the head before a body is read; nil admits every body within the limit.
    public let admission: Admission?

    public init(_ method: HTTPMethod, _ pattern: String, maxBodyBytes: Int? = nil, execution: Execution = .worker, admission: Admission? = nil, handler: RouteHandler) {
        self.method = method
        self.pattern = pattern
        self.handler = handler
        self.maxBodyBytes = maxBodyBytes
        self.execution = execution
        self.admission = admission
    }

    public init(_ method: HTTPMethod, _ pattern: String, maxBodyBytes: Int? = nil, execution: Execution = .worker, admission: Admission? = nil,
                _ respond: @escaping @Sendable (Request) throws -> Response) {
        self.init(method, pattern, maxBodyBytes: maxBodyBytes, execution: execution, admission: admission, handler: .respond(respond))
    }
}

/// Method + path pattern → route. Built once; immutable; listable for the contract test.
///
/// Matching hashes nothing and allocates only the segment list and, for a route with parameters, its
/// dictionary: the path's segments are compared byte for byte with each node's literals (a node has a few
/// dozen at most), and only segments with a `%` are decoded (BENCHMARKS.md: the status route).
public struct Router: Sendable {
    public enum Match: Equatable {
        case found(index: Int, parameters: [String: String])
        case methodNotAllowed(allow: [HTTPMethod])
        case notFound
        /// A path segment with a malformed percent-encoding or bytes that are not UTF-8.
        case badPath
    }

    public let routes: [Route]
    private let root: Node

    private struct Node: Sendable {
        var literals: [Literal] = []
        var parameterName: String?
        var parameterChild: [Node] = []   // zero or one: an array gives the recursion its indirection
        var catchAllName: String?
        var catchAllMethods = Methods()
        var methods = Methods()

        func literal(_ segment: Substring) -> Node? {
            let bytes = segment.utf8
            for literal in literals where literal.segment.utf8.count == bytes.count && literal.segment.utf8.elementsEqual(bytes) {
                return literal.node
            }
            return nil
        }
    }

    private struct Literal: Sendable {
        let segment: String
        var node: Node
    }

    /// The routes of one node by method: a handful at most, so a list.
    private struct Methods: Sendable {
        struct Entry: Sendable {
            let method: HTTPMethod
            let index: Int
        }
        var entries: [Entry] = []
        var isEmpty: Bool { entries.isEmpty }

        subscript(method: HTTPMethod) -> Int? {
            get { entries.first { $0.method == method }?.index }
            set {
                entries.removeAll { $0.method == method }
                if let newValue { entries.append(Entry(method: method, index: newValue)) }
            }
        }
    }

    public init(_ routes: [Route]) {
        self.routes = routes
        var root = Node()
        for (index, route) in routes.enumerated() {
            precondition(route.pattern.hasPrefix("/"), "route pattern must start with /: \(route.pattern)")
            let segments = route.pattern.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map(String.init)
            Self.insert(into: &root, segments: segments[...], method: route.method, index: index, pattern: route.pattern)
        }
        self.root = root
    }

    private static func insert(into node: inout Node, segments: ArraySlice<String>, method: HTTPMethod, index: Int, pattern: String) {
        guard let segment = segments.first else {
            precondition(node.methods[method] == nil, "duplicate route \(method) \(pattern)")
            node.methods[method] = index
            return
        }
        if segment.hasPrefix("{") && segment.hasSuffix("...}") {
            precondition(segments.count == 1, "a {rest...} segment must be last: \(pattern)")
            node.catchAllName = String(segment.dropFirst().dropLast(4))
            precondition(node.catchAllMethods[method] == nil, "duplicate route \(method) \(pattern)")
            node.catchAllMethods[method] = index
        } else if segment.hasPrefix("{") && segment.hasSuffix("}") {
            let name = String(segment.dropFirst().dropLast())
            precondition(node.parameterName == nil || node.parameterName == name, "conflicting parameter names at \(pattern)")
            node.parameterName = name
            if node.parameterChild.isEmpty { node.parameterChild = [Node()] }
            insert(into: &node.parameterChild[0], segments: segments.dropFirst(), method: method, index: index, pattern: pattern)
        } else if let position = node.literals.firstIndex(where: { $0.segment == segment }) {
            insert(into: &node.literals[position].node, segments: segments.dropFirst(), method: method, index: index, pattern: pattern)
        } else {
            var child = Node()
            insert(into: &child, segments: segments.dropFirst(), method: method, index: index, pattern: pattern)
            node.literals.append(Literal(segment: segment, node: child))
        }
    }

    /// Matches a raw (still percent-encoded) path. HEAD falls back to GET.
    public func match(method: HTTPMethod, path: Substring) -> Match {
        guard path.first == "/" else { return .notFound }
        let rawSegments = path.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
        // Segments without a `%` are their own decoding; a path with one is decoded whole first, so that a
        // malformed segment anywhere is refused before any matching.
        var decoded = rawSegments
        if path.utf8.contains(ASCII.percent) {
            for position in rawSegments.indices {
                guard let d = PercentDecoding.decode(rawSegments[position]) else { return .badPath }
                decoded[position] = Substring(d)
            }
        }
        var parameters: [(name: String, value: Substring)] = []
        guard let methods = find(node: root, decoded: decoded[...], raw: rawSegments[...], parameters: &parameters) else {
            return .notFound
        }
        var values: [String: String] = [:]
        if !parameters.isEmpty {
            values.reserveCapacity(parameters.count)
            for parameter in parameters { values[parameter.name] = String(parameter.value) }
        }
        return resolve(method: method, methods: methods, parameters: values)
    }

    private func resolve(method: HTTPMethod, methods: Methods, parameters: [String: String]) -> Match {
        if let index = methods[method] ?? (method == .HEAD ? methods[.GET] : nil) {
            return .found(index: index, parameters: parameters)
        }
        var allow = Set(methods.entries.map(\.method))
        if allow.contains(.GET) { allow.insert(.HEAD) }
        return .methodNotAllowed(allow: allow.sorted())
    }

    private func find(node: Node, decoded: ArraySlice<Substring>, raw: ArraySlice<Substring>,
                      parameters: inout [(name: String, value: Substring)]) -> Methods? {
        guard let segment = decoded.first else {
            if !node.methods.isEmpty { return node.methods }
            if let name = node.catchAllName {
                parameters.append((name, ""))
                return node.catchAllMethods
            }
            return nil
        }
        if let child = node.literal(segment), let found = find(node: child, decoded: decoded.dropFirst(), raw: raw.dropFirst(), parameters: &parameters) {
            return found
        }
        if let name = node.parameterName, !segment.isEmpty, let child = node.parameterChild.first {
            parameters.append((name, segment))
            if let found = find(node: child, decoded: decoded.dropFirst(), raw: raw.dropFirst(), parameters: &parameters) {
                return found
            }
            parameters.removeLast()
        }
        if let name = node.catchAllName {
            parameters.append((name, Substring(raw.joined(separator: "/"))))
            return node.catchAllMethods
        }
        return nil
    }
}
