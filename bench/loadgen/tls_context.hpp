// SPDX-License-Identifier: MIT
#pragma once

#include <openssl/bio.h>  // BIO_METHOD; SSL and SSL_CTX come with it

#include <memory>
#include <string>

namespace loadgen {

struct options;

// The client side of TLS for every wss:// and https:// connection of a run:
// one SSL_CTX set up from --tls-ca and --tls-version before the first
// connection and only read afterwards, so that the receiving and publishing
// threads share it. Without --tls-ca the server is not verified: a load
// generator measures a server it was pointed at, it does not protect secrets.
class tls_context {
public:
    // nullptr and err when the CA file cannot be loaded or OpenSSL refuses a
    // setting.
    static std::unique_ptr<tls_context> create(const options& opts, std::string& err);
    ~tls_context();
    tls_context(const tls_context&) = delete;
    tls_context& operator=(const tls_context&) = delete;

    SSL_CTX* native() const noexcept { return ctx_; }
    // How each tls_stream reaches its socket (tls_stream::new_socket_method).
    BIO_METHOD* socket_method() const noexcept { return method_; }
    // --tls-ca was given: the certificate chain and the URL's host are checked.
    bool verifies() const noexcept { return verifies_; }

private:
    tls_context() = default;

    SSL_CTX* ctx_ = nullptr;
    BIO_METHOD* method_ = nullptr;
    bool verifies_ = false;
};

// The reason of the oldest error in this thread's OpenSSL error queue, or
// fallback when it is empty; empties the queue (SSL_get_error() needs it
// empty before the next call). code, if given, gets the packed error code.
std::string take_openssl_error(const char* fallback, unsigned long* code = nullptr);

}  // namespace loadgen
