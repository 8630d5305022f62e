// SPDX-License-Identifier: MIT
#pragma once
// The stream Beast reads HTTP requests from and writes answers to: a
// connection (plain or TLS) seen as an asynchronous stream, with the
// deadline that Beast's tcp_stream would give. The TLS handshake happens
// here too, before the first request; the sessions that take over after an
// upgrade get the connection itself (release()).

#include "net/connection.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/error.hpp>

#include <array>
#include <chrono>
#include <memory>
#include <string_view>

struct ssl_ctx_st;

namespace notifier::net {

class http_stream {
public:
    using executor_type = connection::socket_type::executor_type;
    using error_code = boost::system::error_code;

    explicit http_stream(connection::socket_type socket);
    ~http_stream();
    http_stream(const http_stream&) = delete;
    http_stream& operator=(const http_stream&) = delete;

    executor_type get_executor() noexcept { return conn_.socket().get_executor(); }
    connection& conn() noexcept { return conn_; }
    bool is_tls() const noexcept { return conn_.is_tls(); }

    /// Operations after this fail with beast::error::timeout once `d` has
    /// passed (the pending one is cancelled), as with Beast's tcp_stream.
    void expires_after(std::chrono::steady_clock::duration d);
    void expires_never();

    /// The connection, for a session that takes over; the deadline ends.
    connection release();

    /// Server side of a TLS handshake with a context of `ctx`. Fails with
    /// errc::protocol_not_supported, before anything is sent, when the
    /// client's first byte cannot start a TLS handshake (plain HTTP on the
    /// TLS port), so that the caller can answer in plain HTTP.
    template <class Handler>
    void async_handshake(ssl_ctx_st* ctx, Handler&& handler) {
        boost::asio::async_compose<Handler, void(error_code)>(handshake_op{*this, ctx}, handler,
                                                              conn_.socket());
    }

    template <class MutableBuffers, class Handler>
    auto async_read_some(const MutableBuffers& buffers, Handler&& handler) {
        return boost::asio::async_compose<Handler, void(error_code, std::size_t)>(
            io_op<MutableBuffers, true>{*this, buffers}, handler, conn_.socket());
    }

    template <class ConstBuffers, class Handler>
    auto async_write_some(const ConstBuffers& buffers, Handler&& handler) {
        return boost::asio::async_compose<Handler, void(error_code, std::size_t)>(
            io_op<ConstBuffers, false>{*this, buffers}, handler, conn_.socket());
    }

private:
    struct deadline;

    // One read or write: tried at once (the answer posted, never run inside
    // the initiating call), else after readiness, until done or failed.
    template <class Buffers, bool Read>
    struct io_op {
        http_stream& s;
        Buffers buffers;
        enum { starting, waiting, posted } state = starting;
        error_code result{};
        std::size_t n = 0;

        template <class Self>
        void operator()(Self& self, error_code ec = {}) {
            if (state == posted) return self.complete(result, n);
            if (state == waiting && ec) return self.complete(s.failure(ec), 0);
            if (s.expired()) {
                result = boost::beast::error::timeout;
            } else if (attempt()) {
                state = waiting;
                if constexpr (Read) s.conn_.async_wait_readable(std::move(self));
                else s.conn_.async_wait_writable(std::move(self));
                return;
            }
            if (state == waiting) return self.complete(result, n);
            state = posted;
            boost::asio::post(s.get_executor(), std::move(self));
        }

        // True when the connection would block.
        bool attempt() {
            if constexpr (Read) {
                for (auto it = boost::asio::buffer_sequence_begin(buffers);
                     it != boost::asio::buffer_sequence_end(buffers); ++it) {
                    const boost::asio::mutable_buffer b = *it;
                    if (b.size() == 0) continue;
                    n = s.conn_.read_some(std::span<char>(static_cast<char*>(b.data()), b.size()), result);
                    break;
                }
            } else {
                std::array<std::string_view, 64> views;
                std::size_t k = 0;
                for (auto it = boost::asio::buffer_sequence_begin(buffers);
                     it != boost::asio::buffer_sequence_end(buffers) && k < views.size(); ++it) {
                    const boost::asio::const_buffer b = *it;
                    if (b.size() != 0) views[k++] = std::string_view(static_cast<const char*>(b.data()), b.size());
                }
                n = k ? s.conn_.write_some(std::span<const std::string_view>(views.data(), k), result) : 0;
            }
            return result == boost::asio::error::would_block || result == boost::asio::error::try_again;
        }
    };

    struct handshake_op {
        http_stream& s;
        ssl_ctx_st* ctx;
        bool sniffed = false;
        bool waiting = false;

        template <class Self>
        void operator()(Self& self, error_code ec = {}) {
            if (!waiting) {  // the client speaks first: wait for its hello
                waiting = true;
                return s.conn_.socket().async_wait(connection::socket_type::wait_read, std::move(self));
            }
            if (ec) return self.complete(s.failure(ec));
            if (s.expired()) return self.complete(boost::beast::error::timeout);
            const auto step = s.handshake_step(ctx, sniffed, ec);
            if (step == handshake_wait::done) return self.complete(ec);
            if (step == handshake_wait::read)
                return s.conn_.socket().async_wait(connection::socket_type::wait_read, std::move(self));
            s.conn_.socket().async_wait(connection::socket_type::wait_write, std::move(self));
        }
    };

    enum class handshake_wait { read, write, done };
    /// Sniffs the first byte, then drives SSL_do_handshake; `ec` set when done.
    handshake_wait handshake_step(ssl_ctx_st* ctx, bool& sniffed, error_code& ec);
    bool expired() const noexcept;
    /// An error after a wait: the deadline's timeout if that cancelled it.
    error_code failure(error_code ec) const noexcept;

    connection conn_;
    ssl_ptr handshaking_;  // until the handshake is done
    std::shared_ptr<deadline> deadline_;
};

}  // namespace notifier::net
