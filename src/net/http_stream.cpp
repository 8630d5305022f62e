// SPDX-License-Identifier: MIT
#include "net/http_stream.hpp"

#include <boost/asio/ssl/error.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <sys/socket.h>

#include <cstdint>

namespace notifier::net {

namespace asio = boost::asio;

// Shared with the timer's handler, which may run after the stream is gone
// (its expiry already queued when the session ended).
struct http_stream::deadline {
    explicit deadline(const executor_type& ex) : timer(ex) {}
    asio::steady_timer timer;
    connection::socket_type* socket = nullptr;
    // Bumped by every new deadline: an expiry queued just before the
    // deadline moved must not cancel what the new one allows.
    std::uint64_t generation = 0;
    bool expired = false;
};

http_stream::http_stream(connection::socket_type socket)
    : conn_(std::move(socket)), deadline_(std::make_shared<deadline>(conn_.socket().get_executor())) {
    deadline_->socket = &conn_.socket();
    // Reads and writes are tried at once and wait for readiness only when
    // the kernel (or OpenSSL) would block.
    error_code ignored;
    conn_.socket().non_blocking(true, ignored);
}

http_stream::~http_stream() {
    deadline_->socket = nullptr;
    deadline_->timer.cancel();
}

void http_stream::expires_after(std::chrono::steady_clock::duration d) {
    deadline_->expired = false;
    const auto generation = ++deadline_->generation;
    deadline_->timer.expires_after(d);
    deadline_->timer.async_wait([state = deadline_, generation](const error_code& ec) {
        // Cancelled, re-armed (even if this expiry was already queued), or
        // the stream is gone.
        if (ec || generation != state->generation || !state->socket) return;
        state->expired = true;
        error_code ignored;
        state->socket->cancel(ignored);
    });
}

void http_stream::expires_never() {
    ++deadline_->generation;
    deadline_->expired = false;
    deadline_->timer.cancel();
}

connection http_stream::release() {
    expires_never();
    deadline_->socket = nullptr;
    return std::move(conn_);
}

bool http_stream::expired() const noexcept { return deadline_->expired; }

http_stream::error_code http_stream::failure(error_code ec) const noexcept {
    if (ec == asio::error::operation_aborted && deadline_->expired) return boost::beast::error::timeout;
    return ec;
}

http_stream::handshake_wait http_stream::handshake_step(ssl_ctx_st* ctx, bool& sniffed, error_code& ec) {
    ec = {};
    if (!sniffed) {
        // A TLS connection opens with a handshake record (content type 22).
        // Anything else is refused before OpenSSL answers it with an alert
        // a plain HTTP client cannot show.
        unsigned char first = 0;
        const auto got = ::recv(conn_.socket().native_handle(), &first, 1, MSG_PEEK | MSG_DONTWAIT);
        if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return handshake_wait::read;
        if (got < 0) {
            ec = {errno, boost::system::system_category()};
            return handshake_wait::done;
        }
        if (got == 0) {
            ec = asio::error::eof;
            return handshake_wait::done;
        }
        if (first != 0x16) {
            ec = make_error_code(boost::system::errc::protocol_not_supported);
            return handshake_wait::done;
        }
        sniffed = true;
        handshaking_.reset(SSL_new(ctx));
        if (!handshaking_ || SSL_set_fd(handshaking_.get(), conn_.socket().native_handle()) != 1) {
            ec = asio::error::no_memory;
            return handshake_wait::done;
        }
        SSL_set_accept_state(handshaking_.get());
    }
    ERR_clear_error();
    errno = 0;
    const int ret = SSL_do_handshake(handshaking_.get());
    if (ret == 1) {
        conn_ = connection(std::move(conn_.socket()), std::move(handshaking_));
        deadline_->socket = &conn_.socket();
        return handshake_wait::done;
    }
    switch (SSL_get_error(handshaking_.get(), ret)) {
        case SSL_ERROR_WANT_READ: return handshake_wait::read;
        case SSL_ERROR_WANT_WRITE: return handshake_wait::write;
        case SSL_ERROR_SYSCALL:
            ec = errno ? error_code(errno, boost::system::system_category()) : error_code(asio::error::eof);
            break;
        default: {
            const unsigned long code = ERR_get_error();
            ERR_clear_error();
            ec = code ? error_code(static_cast<int>(code), asio::error::get_ssl_category())
                      : error_code(asio::error::connection_reset);
        }
    }
    handshaking_.reset();
    return handshake_wait::done;
}

}  // namespace notifier::net
