/// TLS for the listener (README.md#tls-without-a-proxy), for deployments without a proxy that terminates it.
public struct TLSConfiguration: Sendable, Equatable {
    /// PEM: the server certificate followed by its intermediates.
    public var certificateChainFile: String
    /// PEM: the certificate's private key (unencrypted; readable by the server only).
    public var privateKeyFile: String
    /// PEM: CA certificates whose client certificates are accepted (mutual TLS). A client that presents a
    /// certificate that does not verify against them (another CA, expired, …) fails the handshake; one that
    /// presents none is served without (`Request.transport` says which).
    public var clientCAFile: String?

    public init(certificateChainFile: String, privateKeyFile: String, clientCAFile: String? = nil) {
        self.certificateChainFile = certificateChainFile
        self.privateKeyFile = privateKeyFile
        self.clientCAFile = clientCAFile
    }

    /// TLS 1.2 suites of BSI TR-02102-2 (ECDHE with AES-GCM, AES-CCM or AES-CBC with SHA-2), strongest first.
    public static let tls12CipherList = [
        "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-RSA-AES128-GCM-SHA256",
        "ECDHE-ECDSA-AES256-CCM", "ECDHE-ECDSA-AES128-CCM",
        "ECDHE-ECDSA-AES256-SHA384", "ECDHE-ECDSA-AES128-SHA256", "ECDHE-RSA-AES256-SHA384", "ECDHE-RSA-AES128-SHA256",
    ].joined(separator: ":")

    /// TLS 1.3 suites of BSI TR-02102-2 (no ChaCha20).
    public static let tls13CipherSuites = "TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256:TLS_AES_128_CCM_SHA256"

    /// Key exchange groups of BSI TR-02102-2 that OpenSSL 3.0 offers; P-256 first, as clients send its
    /// key share most often after X25519 (which the TR does not list) and OpenSSL computes it fastest.
    public static let groups = "P-256:P-384:P-521"
}
