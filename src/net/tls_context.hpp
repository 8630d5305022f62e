// SPDX-License-Identifier: MIT
#pragma once
// The server's TLS settings as OpenSSL holds them (an SSL_CTX): certificate
// chain, key, oldest protocol version, ALPN. Read again on reload(); a
// handshake takes the context current when it starts, and connections keep
// theirs, so a reload never drops anyone and a bad new pair changes nothing.

#include <notifier/options.hpp>

#include <memory>
#include <mutex>
#include <string>

struct ssl_ctx_st;

namespace notifier::net {

class tls_context {
public:
    /// Reads options::tls_cert_file and tls_key_file (throws
    /// std::invalid_argument when one is missing, or naming the file and
    /// OpenSSL's reason).
    explicit tls_context(const options& opts);

    /// The context new handshakes use.
    std::shared_ptr<ssl_ctx_st> current() const;
    /// Reads the files again; on failure throws as the constructor does and
    /// keeps the current context.
    void reload();
    /// "subject, expires <date>" of the current certificate, for the log.
    std::string describe() const;

private:
    std::shared_ptr<ssl_ctx_st> load() const;

    std::string cert_file_, key_file_;
    tls_version min_version_;
    bool kernel_tls_;
    mutable std::mutex mutex_;
    std::shared_ptr<ssl_ctx_st> ctx_;
};

}  // namespace notifier::net
