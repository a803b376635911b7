@testable import HTTPServer

/// Drives a `ConnectionStateMachine` the way the event loop does, without a socket: bytes and times are
/// given, actions are read back as short names.
struct MachineHarness {
    typealias Machine = ConnectionStateMachine
    var machine: Machine
    /// The clock, in nanoseconds; tests move it forward.
    var now: UInt64 = 1_000

    static func make(tls: Bool = false, configure: (inout Machine.Configuration) -> Void = { _ in }) -> MachineHarness {
        var configuration = Machine.Configuration(
            headerTimeout: 100, bodyIdleTimeout: 50, bodyTimeout: 300, keepAliveTimeout: 1_000, lingerTimeout: 200, lingerBytes: 1_000
        )
        configure(&configuration)
        return MachineHarness(machine: Machine(configuration: configuration, tls: tls, now: 1_000))
    }

    mutating func send(_ event: Machine.Event) -> String {
        Self.name(machine.receive(event))
    }

    /// epoll says the socket is readable.
    mutating func readable() -> String { send(.socketReady(readable: true, writable: false, now: now)) }
    /// epoll says the socket is writable.
    mutating func writable() -> String { send(.socketReady(readable: false, writable: true, now: now)) }

    /// A read returned these bytes (`drained`: the socket holds no more).
    mutating func received(_ text: String, drained: Bool = true) -> String {
        let bytes = Array(text.utf8)
        let action = bytes.withUnsafeBytes { machine.receive(.received($0, drained: drained, now: now)) }
        return Self.name(action)
    }

    /// The route is known and admits bodies of `bodyLimit` bytes.
    mutating func routed(bodyLimit: Int = 1_000) -> String { send(.routed(bodyLimit: bodyLimit, now: now)) }

    /// The loop serialized an answer (its bytes stand for the whole response).
    mutating func answered(_ text: String = "RESPONSE", _ kind: Machine.ResponseKind = .answer) -> String {
        send(.responseQueued(Array(text.utf8), kind, now: now))
    }

    /// A write sent everything pending.
    mutating func wroteAll() -> String { send(.wrote(pendingOutput.utf8.count, now: now)) }

    mutating func timer(after nanoseconds: UInt64) -> String {
        now += nanoseconds
        return send(.timerFired(now: now))
    }

    var pendingOutput: String {
        machine.withPendingOutput { String(decoding: $0, as: UTF8.self) }
    }

    /// "route GET /a", "dispatch 5 bytes", "admitAndDispatch 5 bytes", "answerError 413 body_too_large", or the action's name.
    static func name(_ action: Machine.Action) -> String {
        switch action {
        case .wait: return "wait"
        case .close: return "close"
        case .handshake: return "handshake"
        case .read: return "read"
        case .discard: return "discard"
        case .write: return "write"
        case .linger: return "linger"
        case .route(let head): return "route \(head.method.rawValue) \(head.target)"
        case .decideAccess: return "decideAccess"
        case .dispatch(let body): return "dispatch \(body.count) bytes"
        case .admitAndDispatch(let body): return "admitAndDispatch \(body.count) bytes"
        case .answerError(let error): return "answerError \(error.status.code) \(error.code)"
        }
    }
}
