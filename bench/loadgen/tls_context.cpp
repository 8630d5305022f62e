// SPDX-License-Identifier: MIT
#include "tls_context.hpp"

#include "options.hpp"
#include "tls_stream.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <cstring>

namespace loadgen {

std::string take_openssl_error(const char* fallback, unsigned long* code) {
    const unsigned long first = ERR_get_error();
    ERR_clear_error();
    if (code) *code = first;
    if (first == 0) return fallback;
    if (ERR_GET_LIB(first) == ERR_LIB_SYS) return std::strerror(ERR_GET_REASON(first));  // fopen() and the like
    const char* reason = ERR_reason_error_string(first);
    if (reason) return reason;
    char buf[256];
    ERR_error_string_n(first, buf, sizeof buf);
    return buf;
}

std::unique_ptr<tls_context> tls_context::create(const options& o, std::string& err) {
    std::unique_ptr<tls_context> c(new tls_context);
    c->ctx_ = SSL_CTX_new(TLS_client_method());
    c->method_ = tls_stream::new_socket_method();
    if (!c->ctx_ || !c->method_) {
        err = "cannot set up TLS: " + take_openssl_error("out of memory");
        return nullptr;
    }
    // --tls-version pins one version; otherwise whatever the server offers
    // from TLS 1.2 up.
    const int pinned = o.tls_version == 13 ? TLS1_3_VERSION : o.tls_version == 12 ? TLS1_2_VERSION : 0;
    if (!SSL_CTX_set_min_proto_version(c->ctx_, pinned ? pinned : TLS1_2_VERSION) ||
        !SSL_CTX_set_max_proto_version(c->ctx_, pinned)) {
        err = "--tls-version: " + take_openssl_error("not supported by this OpenSSL");
        return nullptr;
    }
    if (!o.tls_ca.empty()) {
        if (SSL_CTX_load_verify_locations(c->ctx_, o.tls_ca.c_str(), nullptr) != 1) {
            err = "--tls-ca: cannot load '" + o.tls_ca + "': " + take_openssl_error("no certificate found");
            return nullptr;
        }
        SSL_CTX_set_verify(c->ctx_, SSL_VERIFY_PEER, nullptr);
        c->verifies_ = true;
    } else {
        SSL_CTX_set_verify(c->ctx_, SSL_VERIFY_NONE, nullptr);
    }
    // Partial writes keep a connection's unsent bytes in its own queue, whose
    // buffer may move between the retries that WANT_WRITE asks for.
    long mode = SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER;
    // Idle connections hardly read: without their ~17 KiB read buffers the
    // load generator stays small next to the server it measures.
    if (o.idle > 0) mode |= SSL_MODE_RELEASE_BUFFERS;
    SSL_CTX_set_mode(c->ctx_, mode);
    // Read ahead: one recvmsg() takes whatever records wait, not a header and
    // then a body per record. The readers drain each stream to WANT_READ.
    SSL_CTX_set_read_ahead(c->ctx_, 1);
    // Every body here is framed (WebSocket, chunked, Content-Length): a
    // server that closes without close_notify ends the stream, as over TCP.
    SSL_CTX_set_options(c->ctx_, SSL_OP_IGNORE_UNEXPECTED_EOF);
    return c;
}

tls_context::~tls_context() {
    if (ctx_) SSL_CTX_free(ctx_);
    if (method_) BIO_meth_free(method_);
}

}  // namespace loadgen
