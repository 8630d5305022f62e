// SPDX-License-Identifier: MIT
#pragma once
// The tests' HTTP client: one request on a new connection to 127.0.0.1,
// written and read by Beast (an implementation independent of the
// server's), with a deadline so that a missing answer fails the test
// instead of hanging it. Also the raw bytes of a WebSocket upgrade, for
// tests that drive a socket by hand.

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>

namespace notifier::test {

/// The parts of an answer the tests look at.
struct http_response {
    unsigned status = 0;
    std::string body;
    std::string content_type, location, allow, cache_control;
    boost::json::value json() const { return boost::json::parse(body); }
};

/// One request; the Content-Type field is left out when `content_type` is
/// empty. Throws when the server does not answer within 10 s.
inline http_response http_request(std::uint16_t port, boost::beast::http::verb method, const std::string& target,
                                  const std::string& body = {},
                                  const std::string& content_type = "application/json") {
    namespace asio = boost::asio;
    namespace http = boost::beast::http;
    asio::io_context ioc;
    boost::beast::tcp_stream s(ioc);
    s.expires_after(std::chrono::seconds(10));
    s.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    http::request<http::string_body> req{method, target, 11};
    req.set(http::field::host, "127.0.0.1");
    if (!content_type.empty()) req.set(http::field::content_type, content_type);
    req.body() = body;
    req.prepare_payload();
    http::write(s, req);
    boost::beast::flat_buffer b;
    http::response<http::string_body> res;
    http::read(s, b, res);
    return {res.result_int(),
            res.body(),
            std::string(res[http::field::content_type]),
            std::string(res[http::field::location]),
            std::string(res[http::field::allow]),
            std::string(res[http::field::cache_control])};
}

/// One request; returns (status, body).
inline std::pair<unsigned, std::string> http_call(std::uint16_t port, boost::beast::http::verb method,
                                                  const std::string& target, const std::string& body = {},
                                                  const std::string& content_type = "application/json") {
    auto r = http_request(port, method, target, body, content_type);
    return {r.status, std::move(r.body)};
}

/// POST with a JSON body; returns (status, body).
inline std::pair<unsigned, std::string> http_post(std::uint16_t port, const std::string& target,
                                                  const std::string& body,
                                                  const std::string& content_type = "application/json") {
    return http_call(port, boost::beast::http::verb::post, target, body, content_type);
}

/// GET; returns (status, body).
inline std::pair<unsigned, std::string> http_get(std::uint16_t port, const std::string& target) {
    return http_call(port, boost::beast::http::verb::get, target);
}

/// The bytes of a WebSocket upgrade request (RFC 6455 section 4.1) for a
/// socket driven by hand.
inline std::string upgrade_request_text(const std::string& target = "/ws") {
    return "GET " + target + " HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
}

}  // namespace notifier::test
