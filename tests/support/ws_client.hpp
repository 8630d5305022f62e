// SPDX-License-Identifier: MIT
#pragma once
// A small WebSocket test client on Beast's own websocket::stream (an
// implementation independent of the server's framing). Every wait has a
// deadline: a missing frame fails the test instead of hanging it.

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>

namespace notifier::test {

class ws_client {
public:
    /// Connects to ws://127.0.0.1:port<target> and completes the handshake.
    ws_client(std::uint16_t port, const std::string& target = "/ws") : ws_(ioc_) {
        namespace asio = boost::asio;
        asio::ip::tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), port);
        boost::beast::get_lowest_layer(ws_).connect(ep);
        ws_.handshake("127.0.0.1:" + std::to_string(port), target);
        ws_.auto_fragment(false);
    }

    /// The next text message, or nullopt on timeout/close.
    std::optional<std::string> read(std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
        if (closed_) return std::nullopt;
        buf_.clear();
        bool done = false;
        boost::beast::error_code ec;
        ws_.async_read(buf_, [&](boost::beast::error_code e, std::size_t) {
            ec = e;
            done = true;
        });
        ioc_.restart();
        ioc_.run_for(timeout);
        if (!done) {
            // Abandon the read: closing the socket completes it.
            boost::beast::get_lowest_layer(ws_).socket().close();
            ioc_.restart();
            ioc_.run();
            closed_ = true;
            timed_out_ = true;
            return std::nullopt;
        }
        if (ec) {
            closed_ = true;
            error_ = ec;
            return std::nullopt;
        }
        return boost::beast::buffers_to_string(buf_.data());
    }

    /// The next message parsed as JSON (throws on timeout).
    boost::json::object read_json(std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
        auto m = read(timeout);
        if (!m) throw std::runtime_error("no message: " + (timed_out_ ? std::string("timeout") : error_.message()));
        return boost::json::parse(*m).as_object();
    }

    void send(const std::string& text) {
        ws_.text(true);
        ws_.write(boost::asio::buffer(text));
    }

    /// Closing handshake with `code`; returns once the server answered.
    void close(std::uint16_t code = 1000) {
        ws_.close(boost::beast::websocket::close_reason(code));
        closed_ = true;
    }

    /// Close code after read() returned nullopt because the peer closed.
    std::uint16_t close_code() const { return ws_.reason().code; }
    std::string close_reason() const { return std::string(ws_.reason().reason.c_str()); }
    bool closed_by_peer() const { return error_ == boost::beast::websocket::error::closed; }
    bool timed_out() const { return timed_out_; }

private:
    boost::asio::io_context ioc_;
    boost::beast::websocket::stream<boost::beast::tcp_stream> ws_;
    boost::beast::flat_buffer buf_;
    bool closed_ = false;
    bool timed_out_ = false;
    boost::beast::error_code error_;
};

}  // namespace notifier::test
