// SPDX-License-Identifier: MIT
#pragma once
// One client connection's byte stream: a non-blocking TCP socket, with TLS
// (OpenSSL on the socket's descriptor) when the listener speaks TLS. The
// sessions read, write and wait for readiness through it, so that every
// transport works the same over plain TCP and TLS.

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>

#include <cstddef>
#include <memory>
#include <span>
#include <string_view>

struct ssl_st;

namespace notifier::net {

struct ssl_deleter {
    void operator()(ssl_st* ssl) const noexcept;
};
using ssl_ptr = std::unique_ptr<ssl_st, ssl_deleter>;

class connection {
public:
    /// Buffers one write_some() takes at most (a writev's, well under IOV_MAX).
    static constexpr std::size_t max_buffers = 128;

    using socket_type = boost::asio::ip::tcp::socket;
    using error_code = boost::system::error_code;

    explicit connection(socket_type socket) : socket_(std::move(socket)) {}
    /// After a TLS handshake on `socket`'s descriptor.
    connection(socket_type socket, ssl_ptr ssl);
    connection(connection&&) noexcept = default;
    connection& operator=(connection&&) noexcept = default;
    ~connection() = default;

    socket_type& socket() noexcept { return socket_; }
    bool is_tls() const noexcept { return ssl_ != nullptr; }
    /// The kernel encrypts what is written (kTLS): writes skip OpenSSL.
    bool kernel_tls_send() const noexcept { return ktls_send_; }
    ssl_st* ssl() const noexcept { return ssl_.get(); }

    /// Reads what is there without blocking. would_block when nothing is;
    /// eof when the peer closed (over TLS also without close_notify).
    std::size_t read_some(std::span<char> buf, error_code& ec);
    /// Writes a prefix of `bufs` without blocking (writev over plain TCP or
    /// kTLS; over TLS one record of at most 16 KiB, coalesced from the
    /// first buffers). would_block when the kernel takes nothing now. After
    /// would_block over TLS the next write must start with the same bytes
    /// and be at least as long (a write queue's front does).
    std::size_t write_some(std::span<const std::string_view> bufs, error_code& ec);

    /// Bytes a write that would block committed to: over TLS, OpenSSL holds
    /// them in a record half sent, and the next write must start with them
    /// (0 over plain TCP and kTLS, and once written).
    std::size_t committed_bytes() const noexcept { return committed_; }

    /// Calls `h(error_code)` when read_some() may make progress: at once
    /// (posted) when TLS holds decrypted bytes, otherwise when the socket is
    /// ready for what the last read waited for.
    template <class Handler>
    void async_wait_readable(Handler&& h) {
        if (has_pending()) return boost::asio::post(socket_.get_executor(), [h = std::forward<Handler>(h)]() mutable {
            h(error_code());
        });
        socket_.async_wait(read_wants_write_ ? socket_type::wait_write : socket_type::wait_read,
                           std::forward<Handler>(h));
    }
    /// Calls `h(error_code)` when write_some() may make progress.
    template <class Handler>
    void async_wait_writable(Handler&& h) {
        socket_.async_wait(write_wants_read_ ? socket_type::wait_read : socket_type::wait_write,
                           std::forward<Handler>(h));
    }

    /// Ends our sending side: TLS close_notify (best effort), then a TCP
    /// half-close. Reading goes on until the peer closes.
    void shutdown_send() noexcept;
    /// Closes the socket; the TLS state is freed with the connection.
    void close() noexcept;

private:
    bool has_pending() const noexcept;

    socket_type socket_;
    ssl_ptr ssl_;
    std::size_t committed_ = 0;
    bool ktls_send_ = false;
    bool read_wants_write_ = false;
    bool write_wants_read_ = false;
};

}  // namespace notifier::net
