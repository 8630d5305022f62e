// SPDX-License-Identifier: MIT
#pragma once
// HTTP/1.1 on one connection (Beast): the API endpoints, static files and
// the WebSocket upgrade, after which the socket goes to a websocket_session.

#include <notifier/errors.hpp>
#include <notifier/hub.hpp>

#include "core/permissions.hpp"
#include "core/request_head.hpp"
#include "core/resume_request.hpp"
#include "net/http_stream.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace notifier {
class connection_slot;
class shard;
}

namespace notifier::net {

class websocket_session;
class sse_session;

class http_session : public std::enable_shared_from_this<http_session> {
public:
    http_session(shard& shard, boost::asio::ip::tcp::socket socket, std::unique_ptr<connection_slot> slot);
    ~http_session();
    void run();
    /// Hub shutdown: drop the connection.
    void close();

private:
    using request = boost::beast::http::request<boost::beast::http::string_body>;
    using response = boost::beast::http::response<boost::beast::http::string_body>;
    using request_header = boost::beast::http::request_header<>;

    /// TLS listener: the handshake (or a plain-HTTP refusal) comes first.
    void on_handshake(boost::beast::error_code ec);
    void do_read();
    /// The header is in: refusals that need no body (framing, Host, the
    /// publish key) are answered before any of it is read.
    void on_header(boost::beast::error_code ec, std::size_t n);
    std::optional<core::head_refusal> refuse_head(const request_header& head) const;
    /// POST /publish is served here (options::publish_endpoint).
    bool is_publish_path(std::string_view path) const;
    void on_read(boost::beast::error_code ec, std::size_t);
    void handle(request&& req);
    void upgrade(request&& req, const core::request_target& target);
    /// GET /sse: a Server-Sent Events stream (http_session_sse.cpp).
    void serve_sse(request&& req, const core::request_target& target);

    /// What a subscription request (GET /ws, GET /sse) may receive.
    struct grant {
        std::vector<std::string> topics;
        bool implicit_all;
        core::resume_request resume;
        core::permissions perms;
        std::int64_t exp;
    };
    /// A token problem: told after the upgrade (or in the stream), where a
    /// browser can read it.
    struct token_refusal {
        std::string code;
        std::string message;
        close_code cc;
    };
    /// The query and the token: a grant, a token refusal, or nothing when a
    /// malformed query was answered with an HTTP error.
    std::variant<std::monostate, grant, token_refusal> authorize(const request& req,
                                                                 const core::request_target& target);
    void log_refusal(std::string_view code, std::string_view message, close_code cc);
    void publish(request&& req);
    /// GET /readyz: 200 while a publication would be accepted, 503 not_ready otherwise.
    void serve_readiness();
    void send_not_ready(std::string_view message);
    void serve_metrics();
    void serve_static(const request& req, std::string_view path);
    bool origin_allowed(const request& req, const core::request_target& target) const;
    bool try_app_route(const request& req, const std::string& path, std::string_view query);
    void send(response&& res);
    void send_unauthorized(std::string_view code, std::string_view message);
    void refuse_upgrade(std::string_view key, std::string_view code, std::string_view message, close_code cc);
    std::shared_ptr<websocket_session> open_websocket(std::vector<std::string> topics, bool implicit_all,
                                                      core::resume_request resume, core::permissions perms,
                                                      std::int64_t exp);
    std::shared_ptr<sse_session> open_sse(std::vector<std::string> topics, bool implicit_all,
                                          core::resume_request resume, core::permissions perms, std::int64_t exp);
    static std::string switching_protocols(std::string_view key);
    std::string take_buffered();
    std::string remote_address();
    void send_method_not_allowed(std::string_view allow, std::string_view message);
    /// `{"error":code,"message":message}` with the given status.
    response error_response(unsigned status, std::string_view code, std::string_view message) const;
    void send_error(unsigned status, std::string_view code, std::string_view message, bool close = false);
    void do_discard();
    void on_write(bool close, boost::beast::error_code ec, std::size_t);

    shard& shard_;  // its whole life on this one
    std::unique_ptr<connection_slot> slot_;
    http_stream stream_;
    boost::beast::flat_buffer buffer_;
    std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
    unsigned version_ = 11;
    bool keep_alive_ = false;
    bool head_ = false;  // the current request is HEAD: headers only
    bool upgraded_ = false;
    bool counting_publish_ = false;  // the answer is counted by status (POST /publish)
};

}  // namespace notifier::net
