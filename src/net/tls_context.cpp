// SPDX-License-Identifier: MIT
#include "net/tls_context.hpp"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509err.h>

#include <cstring>
#include <stdexcept>

namespace notifier::net {

namespace {

// OpenSSL's oldest queued reason, e.g. "no start line" for a file that is
// not PEM, or "key values mismatch".
std::string openssl_reason() {
    unsigned long code = 0, last = 0;
    while ((code = ERR_get_error()) != 0) last = last ? last : code;
    if (!last) return "unknown error";
    const char* reason = ERR_reason_error_string(last);
    return reason ? reason : "error " + std::to_string(last);
}

// HTTP/1.1 is all this server speaks: a client offering it gets it; one
// offering only others (h2) gets no ALPN answer and may still go on.
int select_alpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in, unsigned inlen,
                void*) {
    static constexpr unsigned char http11[] = {'h', 't', 't', 'p', '/', '1', '.', '1'};
    for (unsigned i = 0; i < inlen;) {
        const unsigned len = in[i];
        if (i + 1 + len > inlen) break;
        if (len == sizeof http11 && std::memcmp(in + i + 1, http11, len) == 0) {
            *out = in + i + 1;
            *outlen = static_cast<unsigned char>(len);
            return SSL_TLSEXT_ERR_OK;
        }
        i += 1 + len;
    }
    return SSL_TLSEXT_ERR_NOACK;
}

}  // namespace

tls_context::tls_context(const options& opts)
    : cert_file_(opts.tls_cert_file),
      key_file_(opts.tls_key_file),
      min_version_(opts.tls_min_version),
      kernel_tls_(opts.tls_kernel),
      ctx_(load()) {}

std::shared_ptr<ssl_ctx_st> tls_context::current() const {
    std::lock_guard lock(mutex_);
    return ctx_;
}

void tls_context::reload() {
    auto fresh = load();
    std::lock_guard lock(mutex_);
    ctx_ = std::move(fresh);
}

std::shared_ptr<ssl_ctx_st> tls_context::load() const {
    if (cert_file_.empty() || key_file_.empty())
        throw std::invalid_argument("TLS needs both a certificate file and a key file");
    ERR_clear_error();
    std::shared_ptr<ssl_ctx_st> ctx(SSL_CTX_new(TLS_server_method()), SSL_CTX_free);
    if (!ctx) throw std::runtime_error("TLS: cannot create a context: " + openssl_reason());
    SSL_CTX* c = ctx.get();
    SSL_CTX_set_min_proto_version(c, min_version_ == tls_version::v1_3 ? TLS1_3_VERSION : TLS1_2_VERSION);
    // No renegotiation (a client could make us redo handshakes at will), an
    // end without close_notify reads as an end (browsers do that), and kTLS
    // only when asked for.
    std::uint64_t op = SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_CIPHER_SERVER_PREFERENCE;
#ifdef SSL_OP_ENABLE_KTLS
    if (kernel_tls_) op |= SSL_OP_ENABLE_KTLS;
#endif
    SSL_CTX_set_options(c, op);
    // Writes resume with the queue's front wherever it now lies; idle
    // connections give their 34 KiB of record buffers back.
    SSL_CTX_set_mode(c, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                            SSL_MODE_RELEASE_BUFFERS);
    // One TLS 1.3 ticket per handshake (OpenSSL sends two): enough for a
    // browser to resume, half the work in a reconnect storm.
    SSL_CTX_set_num_tickets(c, 1);
    // Resumption by tickets only: a server-side cache would keep a session
    // per handshake (20,480 by default) under a lock shared by the shards.
    SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_alpn_select_cb(c, select_alpn, nullptr);
    if (SSL_CTX_use_certificate_chain_file(c, cert_file_.c_str()) != 1)
        throw std::invalid_argument("TLS certificate " + cert_file_ + ": " + openssl_reason());
    if (SSL_CTX_use_PrivateKey_file(c, key_file_.c_str(), SSL_FILETYPE_PEM) != 1) {
        const bool mismatch = ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH;
        const auto reason = openssl_reason();
        if (mismatch)
            throw std::invalid_argument("TLS key " + key_file_ + " does not belong to the certificate " + cert_file_);
        throw std::invalid_argument("TLS key " + key_file_ + ": " + reason);
    }
    if (SSL_CTX_check_private_key(c) != 1)
        throw std::invalid_argument("TLS key " + key_file_ + " does not belong to the certificate " + cert_file_ +
                                    ": " + openssl_reason());
    return ctx;
}

std::string tls_context::describe() const {
    const auto ctx = current();
    X509* cert = SSL_CTX_get0_certificate(ctx.get());
    if (!cert) return {};
    char subject[256] = {};
    X509_NAME_oneline(X509_get_subject_name(cert), subject, sizeof subject);
    std::string out = subject;
    if (BIO* bio = BIO_new(BIO_s_mem())) {
        if (ASN1_TIME_print(bio, X509_get0_notAfter(cert)) == 1) {
            char* data = nullptr;
            const long len = BIO_get_mem_data(bio, &data);
            out += ", expires " + std::string(data, static_cast<std::size_t>(len));
        }
        BIO_free(bio);
    }
    return out;
}

}  // namespace notifier::net
