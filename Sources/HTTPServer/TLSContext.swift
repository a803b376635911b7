import COpenSSL

/// The server's TLS settings loaded into OpenSSL (`SSL_CTX`), shared by every connection of every loop.
///
/// `@unchecked Sendable`: the context is configured completely in `init` and only read afterwards;
/// OpenSSL allows `SSL_new` on one context from many threads.
final class TLSContext: @unchecked Sendable {
    let context: OpaquePointer
    let verifiesClients: Bool

    init(_ configuration: TLSConfiguration) throws {
        guard let context = SSL_CTX_new(TLS_server_method()) else { throw ServerError.tls("SSL_CTX_new failed: \(Self.lastError())") }
        self.context = context
        verifiesClients = configuration.clientCAFile != nil
        try check(pickupbox_ssl_ctx_set_min_tls12(context) == 1, "cannot require TLS 1.2")
        pickupbox_ssl_ctx_set_server_options(context)
        pickupbox_ssl_ctx_set_partial_writes(context)
        try check(SSL_CTX_set_cipher_list(context, TLSConfiguration.tls12CipherList) == 1, "cipher list refused")
        try check(SSL_CTX_set_ciphersuites(context, TLSConfiguration.tls13CipherSuites) == 1, "TLS 1.3 cipher suites refused")
        try check(pickupbox_ssl_ctx_set_groups(context, TLSConfiguration.groups) == 1, "key exchange groups refused")
        try check(SSL_CTX_use_certificate_chain_file(context, configuration.certificateChainFile) == 1,
                  "cannot load the certificate chain TLS_CERT_FILE")
        try check(SSL_CTX_use_PrivateKey_file(context, configuration.privateKeyFile, SSL_FILETYPE_PEM) == 1,
                  "cannot load the private key TLS_KEY_FILE, or it does not belong to the certificate in TLS_CERT_FILE")
        try check(SSL_CTX_check_private_key(context) == 1, "TLS_KEY_FILE does not belong to the certificate in TLS_CERT_FILE")
        if let caFile = configuration.clientCAFile {
            try check(SSL_CTX_load_verify_locations(context, caFile, nil) == 1, "cannot load the client CA certificates TLS_CLIENT_CA_FILE")
            guard let names = SSL_load_client_CA_file(caFile) else { throw ServerError.tls("TLS_CLIENT_CA_FILE names no CA: \(Self.lastError())") }
            // Told to the client in the CertificateRequest, so a browser offers only matching certificates.
            SSL_CTX_set_client_CA_list(context, names)
            // Ask every client; one that presents a certificate must present one that verifies.
            SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
            SSL_CTX_set_verify_depth(context, 4)
        }
    }

    deinit {
        SSL_CTX_free(context)
    }

    private func check(_ ok: Bool, _ what: String) throws {
        guard ok else { throw ServerError.tls("\(what): \(Self.lastError())") }
    }

    /// OpenSSL's most recent error on this thread (for start-up errors; the queue is cleared).
    static func lastError() -> String {
        let code = ERR_get_error()
        ERR_clear_error()
        guard code != 0 else { return "no detail" }
        var buffer = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &buffer, buffer.count)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
