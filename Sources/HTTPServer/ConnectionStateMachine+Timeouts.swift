/// The connection's time-outs: read-only checks of the machine's phase and progress at a given time.
extension ConnectionStateMachine {
    /// What the periodic check does to the connection now: nothing, an answer 408, or closing it.
    func timeoutAction(now: UInt64) -> Action {
        let c = configuration
        if hasPendingOutput {
            return now &- lastProgress > c.bodyIdleTimeout ? .close : .wait
        }
        switch phase {
        case .handshake:
            // No HTTP answer is possible before the handshake: a client that does not finish it is dropped.
            return draining || now &- phaseStarted > c.headerTimeout ? .close : .wait
        case .idle:
            return draining || now &- phaseStarted > c.keepAliveTimeout ? .close : .wait
        case .head where now &- phaseStarted > c.headerTimeout:
            return .answerError(Self.timeout("The request headers did not arrive in time."))
        case .body where now &- lastProgress > c.bodyIdleTimeout:
            return .answerError(Self.timeout("The request body stalled."))
        case .body where now &- phaseStarted > c.bodyTimeout:
            // An absolute deadline: a body trickling a byte at a time would otherwise hold the connection for ever.
            return .answerError(Self.timeout("The request body did not arrive in time."))
        case .lingering where now &- phaseStarted > c.lingerTimeout:
            return .close
        case .head, .body, .processing, .admitting, .admittingWithBody, .closing, .lingering:
            return .wait
        }
    }

    private static func timeout(_ message: String) -> HTTPParseError {
        HTTPParseError(status: .requestTimeout, code: "request_timeout", message: message)
    }
}
