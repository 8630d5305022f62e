// SPDX-License-Identifier: MIT
#include "net/connection.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/asio/ssl/error.hpp>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

namespace notifier::net {

namespace asio = boost::asio;

namespace {

constexpr std::size_t max_record = 16 * 1024;  // a TLS record's plaintext

// What a failed SSL_read/SSL_write means for the caller. `wants_other`
// learns whether the call needs the other direction to be ready first.
boost::system::error_code ssl_failure(ssl_st* ssl, int ret, bool& wants_other, bool reading) {
    const int err = SSL_get_error(ssl, ret);
    wants_other = false;
    switch (err) {
        case SSL_ERROR_WANT_READ:
            wants_other = !reading;
            return asio::error::would_block;
        case SSL_ERROR_WANT_WRITE:
            wants_other = reading;
            return asio::error::would_block;
        case SSL_ERROR_ZERO_RETURN:
            return asio::error::eof;
        case SSL_ERROR_SYSCALL:
            if (errno != 0) return {errno, boost::system::system_category()};
            return asio::error::eof;
        default: {
            const unsigned long code = ERR_get_error();
            ERR_clear_error();
            if (code == 0) return asio::error::connection_reset;
            return {static_cast<int>(code), asio::error::get_ssl_category()};
        }
    }
}

}  // namespace

void ssl_deleter::operator()(ssl_st* ssl) const noexcept { SSL_free(ssl); }

connection::connection(socket_type socket, ssl_ptr ssl) : socket_(std::move(socket)), ssl_(std::move(ssl)) {
    // OpenSSL switched the send side to the kernel during the handshake when
    // SSL_OP_ENABLE_KTLS was set and the kernel's tls module took the keys.
    ktls_send_ = ssl_ && BIO_get_ktls_send(SSL_get_wbio(ssl_.get()));
}

bool connection::has_pending() const noexcept { return ssl_ && SSL_pending(ssl_.get()) > 0; }

std::size_t connection::read_some(std::span<char> buf, error_code& ec) {
    ec = {};
    if (!ssl_) return socket_.read_some(asio::buffer(buf.data(), buf.size()), ec);
    ERR_clear_error();
    errno = 0;
    std::size_t n = 0;
    const int ret = SSL_read_ex(ssl_.get(), buf.data(), buf.size(), &n);
    read_wants_write_ = false;
    if (ret == 1) return n;
    ec = ssl_failure(ssl_.get(), ret, read_wants_write_, true);
    return 0;
}

std::size_t connection::write_some(std::span<const std::string_view> bufs, error_code& ec) {
    ec = {};
    if (bufs.empty()) return 0;
    if (!ssl_ || ktls_send_) {
        std::array<asio::const_buffer, max_buffers> out;
        const std::size_t n = std::min(bufs.size(), out.size());
        for (std::size_t i = 0; i < n; ++i) out[i] = asio::const_buffer(bufs[i].data(), bufs[i].size());
        return socket_.write_some(std::span<const asio::const_buffer>(out.data(), n), ec);
    }
    // One record from the front: a large first buffer as it is, small ones
    // copied together, so that many small frames cost one record and one
    // write() rather than one each. The copy owns nothing: the bytes stay
    // queued until written, and a retry copies them again.
    const char* data = bufs[0].data();
    std::size_t len = bufs[0].size();
    thread_local std::array<char, max_record> staging;
    if (len < max_record && bufs.size() > 1) {
        std::size_t used = 0;
        for (const auto& b : bufs) {
            const std::size_t take = std::min(b.size(), staging.size() - used);
            std::memcpy(staging.data() + used, b.data(), take);
            used += take;
            if (used == staging.size()) break;
        }
        data = staging.data();
        len = used;
    }
    ERR_clear_error();
    errno = 0;
    std::size_t n = 0;
    const int ret = SSL_write_ex(ssl_.get(), data, len, &n);
    write_wants_read_ = false;
    if (ret == 1) {
        committed_ = 0;
        return n;
    }
    ec = ssl_failure(ssl_.get(), ret, write_wants_read_, false);
    // OpenSSL keeps the record it made of these bytes, and a retry must offer
    // them again: they are no longer the queue's to drop.
    if (ec == asio::error::would_block) committed_ = std::max(committed_, std::min(len, max_record));
    return 0;
}

void connection::shutdown_send() noexcept {
    if (ssl_ && !(SSL_get_shutdown(ssl_.get()) & SSL_SENT_SHUTDOWN)) {
        ERR_clear_error();
        SSL_shutdown(ssl_.get());  // queues close_notify; not waiting for the peer's
        ERR_clear_error();
    }
    error_code ignored;
    socket_.shutdown(socket_type::shutdown_send, ignored);
}

void connection::close() noexcept {
    error_code ignored;
    socket_.shutdown(socket_type::shutdown_both, ignored);
    socket_.close(ignored);
}

}  // namespace notifier::net
