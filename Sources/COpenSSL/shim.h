#ifndef PICKUPBOX_COPENSSL_SHIM_H
#define PICKUPBOX_COPENSSL_SHIM_H
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/err.h>
#include <openssl/crypto.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

// Function-like macros of libssl, as functions Swift can call.

/// TLS 1.2 at least (BSI TR-02102-2); OpenSSL negotiates 1.3 when both sides speak it.
static inline int pickupbox_ssl_ctx_set_min_tls12(SSL_CTX *ctx) {
    return (int)SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
}

/// At most TLS 1.2 (tests: what an older client negotiates).
static inline int pickupbox_ssl_ctx_set_max_tls12(SSL_CTX *ctx) {
    return (int)SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
}

/// Server options: the server's cipher order, no TLS compression (CRIME), no renegotiation.
static inline void pickupbox_ssl_ctx_set_server_options(SSL_CTX *ctx) {
    SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
}

/// Non-blocking writes: a write may complete partially, and its retry may pass a moved buffer.
static inline void pickupbox_ssl_ctx_set_partial_writes(SSL_CTX *ctx) {
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
}

static inline int pickupbox_ssl_ctx_set_groups(SSL_CTX *ctx, const char *groups) {
    return (int)SSL_CTX_set1_groups_list(ctx, groups);
}

/// The host name a client asks for (SNI) and checks the certificate against.
static inline int pickupbox_ssl_set_host_name(SSL *ssl, const char *name) {
    return (int)SSL_set_tlsext_host_name(ssl, name);
}

#endif
