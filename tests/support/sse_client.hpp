// SPDX-License-Identifier: MIT
#pragma once
// A small Server-Sent Events test client: Beast's HTTP parser undoes the
// chunked framing (an implementation independent of the server's), the
// event-stream lines are split here. Every wait has a deadline.

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <chrono>
#include <functional>
#include <optional>
#include <string>

namespace notifier::test {

struct sse_event {
    std::string event = "message";
    std::string id;
    std::string data;
};

class sse_client {
public:
    /// GET http://127.0.0.1:port<target>; the head is read by the first event().
    sse_client(std::uint16_t port, const std::string& target) : socket_(ioc_) {
        namespace asio = boost::asio;
        namespace http = boost::beast::http;
        socket_.connect({asio::ip::make_address("127.0.0.1"), port});
        http::request<http::empty_body> req{http::verb::get, target, 11};
        req.set(http::field::host, "127.0.0.1:" + std::to_string(port));
        req.set(http::field::accept, "text/event-stream");
        http::write(socket_, req);
        parser_.body_limit(boost::none);
        parser_.on_chunk_body(on_chunk_);
    }

    /// The response status (after the first event() or read of the head).
    unsigned status() const { return parser_.get().result_int(); }
    std::string header(const std::string& name) const { return std::string(parser_.get()[name]); }

    /// The next event (comments skipped), or nullopt at the end of the
    /// stream or on timeout.
    std::optional<sse_event> event(std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
        sse_event e;
        bool any = false;
        while (true) {
            const auto nl = text_.find('\n');
            if (nl == std::string::npos) {
                if (!fill(timeout)) return std::nullopt;
                continue;
            }
            const std::string line = text_.substr(0, nl);
            text_.erase(0, nl + 1);
            if (line.empty()) {
                if (any) return e;
                continue;
            }
            if (line[0] == ':') continue;
            const auto colon = line.find(':');
            const std::string field = line.substr(0, colon);
            std::string value = colon == std::string::npos ? std::string() : line.substr(colon + 1);
            if (!value.empty() && value[0] == ' ') value.erase(0, 1);
            any = true;
            if (field == "event") e.event = value;
            else if (field == "id") e.id = value;
            else if (field == "data") e.data += (e.data.empty() ? "" : "\n") + value;
        }
    }

private:
    // Reads more of the response; false at its end or on timeout.
    bool fill(std::chrono::milliseconds timeout) {
        namespace http = boost::beast::http;
        if (done_) return false;
        bool finished = false;
        boost::beast::error_code ec;
        const std::size_t before = text_.size();
        auto step = [&](auto&& self) -> void {
            http::async_read_some(socket_, buffer_, parser_, [&, self](boost::beast::error_code e, std::size_t) {
                ec = e;
                if (!e && text_.size() == before && !parser_.is_done()) return self(self);
                finished = true;
            });
        };
        step(step);
        ioc_.restart();
        ioc_.run_for(timeout);
        if (!finished) {
            socket_.close();
            ioc_.restart();
            ioc_.run();
            done_ = true;
            return false;
        }
        if (ec || parser_.is_done()) done_ = true;
        return text_.size() > before;
    }

    boost::asio::io_context ioc_;
    boost::asio::ip::tcp::socket socket_;
    boost::beast::flat_buffer buffer_;
    boost::beast::http::response_parser<boost::beast::http::empty_body> parser_;
    std::string text_;
    bool done_ = false;
    // The chunks' data goes to text_, not to the (empty) body.
    std::function<std::size_t(std::uint64_t, boost::string_view, boost::beast::error_code&)> on_chunk_ =
        [this](std::uint64_t, boost::string_view body, boost::beast::error_code&) {
            text_.append(body.data(), body.size());
            return body.size();
        };
};

}  // namespace notifier::test
