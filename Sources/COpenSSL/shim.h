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
#include <openssl/core_names.h>

/// HMAC of `message` under `key` with the digest named `digest` ("SHA256"), through `mac` (EVP_MAC_fetch'ed
/// "HMAC", kept for the process): 1 when `out` holds the MAC and `*length` its size. A fetched MAC saves
/// one of the two look-ups of an implementation that `HMAC()` makes on every call (the digest's remains).
static inline int pickupbox_hmac(EVP_MAC *mac, const char *digest, const unsigned char *key, size_t key_length,
                                 const unsigned char *message, size_t message_length,
                                 unsigned char *out, size_t out_size, size_t *length) {
    if (mac == NULL) return 0;
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(mac);
    if (ctx == NULL) return 0;
    OSSL_PARAM params[] = { OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)digest, 0), OSSL_PARAM_construct_end() };
    int ok = EVP_MAC_init(ctx, key, key_length, params) == 1 && EVP_MAC_update(ctx, message, message_length) == 1
             && EVP_MAC_final(ctx, out, length, out_size) == 1;
    EVP_MAC_CTX_free(ctx);
    return ok;
}

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
