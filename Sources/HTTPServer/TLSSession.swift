import COpenSSL

/// One connection's TLS state (`SSL`), driven by its event loop on a non-blocking socket: every call
/// returns at once with what it did or what it waits for, so a handshake never holds a thread.
///
/// Owned by one `Connection` and touched only on its loop's thread.
final class TLSSession {
    /// What a read, write or handshake step did.
    enum Step: Equatable {
        /// Bytes read or written.
        case bytes(Int)
        /// Done (handshake).
        case done
        /// Waits until the socket is readable.
        case wantRead
        /// Waits until the socket is writable.
        case wantWrite
        /// The peer closed the TLS session cleanly.
        case closed
        /// A protocol or socket error (a failed handshake, a bad record): the connection must close.
        case failed
    }

    private let ssl: OpaquePointer
    private(set) var established = false
    /// The subject of a client certificate that verified against the client CAs (mutual TLS), else nil.
    private(set) var clientCertificate: String?

    init?(context: TLSContext, fd: Int32) {
        guard let ssl = SSL_new(context.context) else { return nil }
        self.ssl = ssl
        guard SSL_set_fd(ssl, fd) == 1 else { return nil }
        SSL_set_accept_state(ssl)
    }

    deinit {
        SSL_free(ssl)
    }

    func handshake() -> Step {
        ERR_clear_error()
        let result = SSL_do_handshake(ssl)
        guard result == 1 else { return step(result) }
        established = true
        // With SSL_VERIFY_PEER a presented certificate that fails verification ends the handshake, so a
        // certificate here verified; the result is checked anyway.
        if let peer = SSL_get1_peer_certificate(ssl) {
            defer { X509_free(peer) }
            if SSL_get_verify_result(ssl) == Int(X509_V_OK) { clientCertificate = Self.subject(peer) }
        }
        return .done
    }

    func read(into buffer: UnsafeMutableRawPointer, count: Int) -> Step {
        ERR_clear_error()
        let n = SSL_read(ssl, buffer, Int32(clamping: count))
        return n > 0 ? .bytes(Int(n)) : step(n)
    }

    func write(_ buffer: UnsafeRawPointer, count: Int) -> Step {
        ERR_clear_error()
        let n = SSL_write(ssl, buffer, Int32(clamping: count))
        return n > 0 ? .bytes(Int(n)) : step(n)
    }

    /// Decrypted bytes OpenSSL holds that the socket will not signal again (edge-triggered epoll).
    var hasBufferedInput: Bool { SSL_pending(ssl) > 0 }

    /// One attempt to send close_notify before the socket is closed; never waits.
    func shutdown() {
        guard established else { return }
        ERR_clear_error()
        _ = SSL_shutdown(ssl)
        ERR_clear_error()
    }

    private func step(_ result: Int32) -> Step {
        let error = SSL_get_error(ssl, result)
        // The thread's error queue must be empty before the next TLS call on this thread (any connection).
        defer { ERR_clear_error() }
        switch error {
        case SSL_ERROR_WANT_READ: return .wantRead
        case SSL_ERROR_WANT_WRITE: return .wantWrite
        case SSL_ERROR_ZERO_RETURN: return .closed
        default: return .failed
        }
    }

    private static func subject(_ certificate: OpaquePointer) -> String? {
        guard let name = X509_get_subject_name(certificate), let text = X509_NAME_oneline(name, nil, 0) else { return nil }
        defer { CRYPTO_free(text, #fileID, #line) }
        return String(cString: text)
    }
}
