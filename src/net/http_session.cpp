// SPDX-License-Identifier: MIT
#include "net/http_session.hpp"

#include "core/error_json.hpp"
#include "core/metrics_text.hpp"
#include "core/publish_request.hpp"
#include "core/request_head.hpp"
#include "core/utf8.hpp"
#include "connection_slot.hpp"
#include "shard.hpp"
#include "net/static_files.hpp"

#include <boost/asio/write.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/file_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include <boost/asio/post.hpp>

#include <atomic>

namespace notifier::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

bool is_json_content_type(std::string_view v) {
    const auto semi = v.find(';');
    auto media = v.substr(0, semi);
    while (!media.empty() && (media.back() == ' ' || media.back() == '\t')) media.remove_suffix(1);
    while (!media.empty() && (media.front() == ' ' || media.front() == '\t')) media.remove_prefix(1);
    return beast::iequals(media, "application/json");
}

}  // namespace

http_session::http_session(shard& shard, asio::ip::tcp::socket socket, std::unique_ptr<connection_slot> slot)
    : shard_(shard),
      slot_(std::move(slot)),
      stream_(std::move(socket)),
      // Beast limits the request header and the body, not chunk headers or
      // trailers: without a cap an endless chunk-size line grows this
      // buffer until memory runs out. Past the cap the read fails (400).
      buffer_(shard.opts().max_header_bytes + shard.opts().max_publish_bytes + 64 * 1024) {
    shard_.add_http(this);
}

http_session::~http_session() { shard_.remove_http(this); }

void http_session::run() {
    const auto tls = shard_.tls_context();
    if (!tls) return do_read();
    stream_.expires_after(shard_.opts().handshake_timeout);
    // The handshake op holds the session; the context is held by the SSL it creates.
    stream_.async_handshake(tls.get(), [self = shared_from_this()](beast::error_code ec) { self->on_handshake(ec); });
}

void http_session::on_handshake(beast::error_code ec) {
    if (ec == boost::system::errc::protocol_not_supported) {
        // Plain HTTP on the TLS port: still plain here, so the answer is
        // one a curl or a misconfigured proxy can show.
        shard_.count_tls_handshake(tls_outcome::plain_http);
        head_ = false;
        return send_error(400, "tls_required", "this port speaks TLS: use https:// or wss://", true);
    }
    if (ec) {
        shard_.count_tls_handshake(ec == beast::error::timeout ? tls_outcome::timeout : tls_outcome::failed);
        NOTIFIER_LOG_DEBUG(shard_.log(), "tls_handshake_failed", {"error", ec.message()});
        return close();
    }
    shard_.count_tls_handshake(stream_.conn().kernel_tls_send() ? tls_outcome::ok_kernel : tls_outcome::ok);
    do_read();
}

void http_session::close() {
    stream_.conn().close();
}

void http_session::do_read() {
    // Answers sent before handle() (413, 431, 400) must not inherit the
    // previous request's HEAD or version.
    head_ = false;
    version_ = 11;
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(shard_.opts().max_header_bytes));
    parser_->body_limit(shard_.opts().max_publish_bytes);
    stream_.expires_after(shard_.opts().handshake_timeout);
    // The header first: a client that sent `Expect: 100-continue` (curl
    // for large bodies, several HTTP libraries) waits for "100 Continue"
    // before it sends the body.
    http::async_read_header(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&http_session::on_header, shared_from_this()));
}

void http_session::on_header(beast::error_code ec, std::size_t n) {
    // A Content-Length above the body limit fails here already (Beast checks
    // it with the header): the head is complete, so a missing publish key
    // still answers 401 rather than 413.
    if (ec && ec != http::error::body_limit) return on_read(ec, n);
    const auto& head = parser_->get();
    version_ = head.version();
    head_ = head.method() == http::verb::head;
    const auto target = core::parse_request_target(head.target());
    counting_publish_ = head.method() == http::verb::post && target && is_publish_path(target->path);
    // Settled on the head, before a byte of the body is read: a framing we
    // refuse leaves no way to tell where the next request starts, so these
    // answers close the connection.
    if (auto refusal = refuse_head(head)) return send_error(refusal->status, refusal->code, refusal->message, true);
    if (counting_publish_ && !shard_.publish_key_ok(head[http::field::authorization])) {
        // Nobody without a key gets a body read, buffered or a
        // "100 Continue" asking for it.
        keep_alive_ = false;
        return send_unauthorized("unauthorized", "POST /publish needs Authorization: Bearer <publish key>");
    }
    if (ec) return on_read(ec, n);
    auto self = shared_from_this();
    if (!parser_->is_done() && beast::iequals(head[http::field::expect], "100-continue")) {
        static constexpr std::string_view go_on = "HTTP/1.1 100 Continue\r\n\r\n";
        return asio::async_write(stream_, asio::buffer(go_on.data(), go_on.size()),
                                 [self](beast::error_code e, std::size_t) {
                                     if (e) return self->close();
                                     http::async_read(self->stream_, self->buffer_, *self->parser_,
                                                      beast::bind_front_handler(&http_session::on_read, self));
                                 });
    }
    http::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&http_session::on_read, self));
}

std::optional<core::head_refusal> http_session::refuse_head(const request_header& head) const {
    std::vector<std::string_view> values;
    const auto all = [&](http::field name) {
        values.clear();
        for (auto [it, end] = head.equal_range(name); it != end; ++it) values.push_back(it->value());
        return std::span<const std::string_view>(values);
    };
    if (auto r = core::check_body_framing(all(http::field::transfer_encoding),
                                          head.count(http::field::content_length) > 0, head.version()))
        return r;
    return core::check_host(all(http::field::host), head.version());
}

bool http_session::is_publish_path(std::string_view path) const {
    return path == "/publish" && shard_.opts().publish_endpoint;
}

void http_session::on_read(beast::error_code ec, std::size_t) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::operation_aborted ||
        ec == asio::error::connection_reset || ec == asio::error::eof) {
        return close();
    }
    if (ec == http::error::body_limit) {
        keep_alive_ = false;
        return send_error(413, "payload_too_large",
                          "body above " + std::to_string(shard_.opts().max_publish_bytes) + " bytes", true);
    }
    if (ec == http::error::header_limit) {
        return send_error(431, "header_too_large",
                          "request header above " + std::to_string(shard_.opts().max_header_bytes) + " bytes", true);
    }
    if (ec) {
        if (ec.category() == http::make_error_code(http::error::bad_target).category() || ec == http::error::partial_message)
            return send_error(400, "bad_request", "malformed HTTP request: " + ec.message(), true);
        return close();
    }
    handle(parser_->release());
}

void http_session::handle(request&& req) {
    version_ = req.version();
    keep_alive_ = req.keep_alive();
    head_ = req.method() == http::verb::head;
    auto target = core::parse_request_target(req.target());
    if (!target) return send_error(400, "bad_request", "malformed request target");
    const std::string& path = target->path;
    const std::string_view query = target->query;
    const auto method = req.method();

    if (path == "/ws") {
        if (beast::websocket::is_upgrade(req)) return upgrade(std::move(req), *target);
        if (method != http::verb::get) {
            return send_method_not_allowed("GET", "use GET with a WebSocket upgrade");
        }
        auto res = error_response(426, "upgrade_required", "this endpoint speaks WebSocket only");
        res.set(http::field::upgrade, "websocket");
        res.set(http::field::connection, "Upgrade");
        return send(std::move(res));
    }
    if (path == "/sse") return serve_sse(std::move(req), *target);
    if (is_publish_path(path)) {
        if (method != http::verb::post) {
            return send_method_not_allowed("POST", "use POST");
        }
        counting_publish_ = true;
        return publish(std::move(req));
    }
    if (path == "/healthz") {
        if (method != http::verb::get && method != http::verb::head) {
            return send_method_not_allowed("GET, HEAD", "use GET");
        }
        response res{http::status::ok, version_};
        res.set(http::field::content_type, "application/json");
        res.set(http::field::cache_control, "no-store");
        res.body() = shard_.stopping() ? R"({"status":"stopping"})" : R"({"status":"ok"})";
        if (shard_.stopping()) res.result(http::status::service_unavailable);
        return send(std::move(res));
    }
    if (path == "/readyz") {
        if (method != http::verb::get && method != http::verb::head) {
            return send_method_not_allowed("GET, HEAD", "use GET");
        }
        return serve_readiness();
    }
    if (path == "/metrics" && shard_.opts().metrics) {
        if (method != http::verb::get && method != http::verb::head) {
            return send_method_not_allowed("GET, HEAD", "use GET");
        }
        return serve_metrics();
    }
    if (shard_.opts().app_routes && try_app_route(req, path, query)) return;
    if (method != http::verb::get && method != http::verb::head) {
        const bool exists = shard_.opts().static_dir.empty()
                                ? shard_.opts().builtin_page && (path == "/" || path == "/index.html")
                                : resolve_static(shard_.opts().static_dir, path).has_value();
        if (!exists) return send_error(404, "not_found", "no such path");
        return send_method_not_allowed("GET, HEAD", "static files are read-only");
    }
    serve_static(req, path);
}

void http_session::send_unauthorized(std::string_view code, std::string_view message) {
    shard_.counts().auth_failures.add();
    NOTIFIER_LOG_INFO(shard_.log(), "auth_failure", {"remote", remote_address()}, {"stage", "publish"}, {"code", code},
                      {"message", message});
    auto res = error_response(401, code, message);
    res.set(http::field::www_authenticate, "Bearer");
    send(std::move(res));
}

void http_session::publish(request&& req) {
    // The publish key was checked on the header (on_header).
    if (!is_json_content_type(req[http::field::content_type]))
        return send_error(415, "unsupported_media_type", "Content-Type must be application/json");
    auto parsed = core::parse_publish_request(req.body());
    if (auto* err = std::get_if<core::publish_error>(&parsed)) return send_error(400, err->code, err->message);
    if (shard_.stopping()) return send_error(503, "unavailable", "the server is shutting down");
    if (shard_.backlogged()) return send_error(503, "overloaded", "too many notifications waiting for fan-out; retry");
    auto& batch = std::get<std::vector<notification>>(parsed);
    const std::size_t count = batch.size();
    // Through the intake, answered once the broker has the batch: not after
    // the fan-out of what came before it.
    shard_.publish(std::move(batch), [self = shared_from_this(), count](std::error_code ec, std::uint64_t first) {
        if (ec) return self->send_error(503, "unavailable", "cannot publish: " + ec.message());
        response res{http::status::accepted, self->version_};
        res.set(http::field::content_type, "application/json");
        std::string body = "{\"seqs\":[";
        for (std::size_t i = 0; i < count; ++i) {
            if (i) body.push_back(',');
            body += std::to_string(first + i);
        }
        body += "]}";
        res.body() = std::move(body);
        self->send(std::move(res));
    });
}

void http_session::serve_readiness() {
    // Through the intake, as a publication would go: the answer says whether
    // one would be accepted now (broker reachable, hub not stopping), and
    // that the intake's loop answers at all.
    if (shard_.stopping()) return send_not_ready("the server is shutting down");
    shard_.publish({}, [self = shared_from_this()](std::error_code ec, std::uint64_t) {
        if (ec == errc::stopped) return self->send_not_ready("the server is shutting down");
        if (ec) return self->send_not_ready("cannot publish: " + ec.message());
        response res{http::status::ok, self->version_};
        res.set(http::field::content_type, "application/json");
        res.set(http::field::cache_control, "no-store");
        res.body() = R"({"status":"ready"})";
        self->send(std::move(res));
    });
}

void http_session::send_not_ready(std::string_view message) {
    auto res = error_response(503, "not_ready", message);
    res.set(http::field::cache_control, "no-store");
    send(std::move(res));
}

void http_session::serve_metrics() {
    // Every shard reports from its own loop; the answer comes back here.
    shard_.render_metrics([self = shared_from_this()](std::string text) {
        response res{http::status::ok, self->version_};
        res.set(http::field::content_type, core::metrics_text::content_type);
        res.set(http::field::cache_control, "no-store");
        res.body() = std::move(text);
        self->send(std::move(res));
    });
}

void http_session::serve_static(const request& req, std::string_view path) {
    const bool head = req.method() == http::verb::head;
    if (shard_.opts().static_dir.empty()) {
        if (!shard_.opts().builtin_page || (path != "/" && path != "/index.html"))
            return send_error(404, "not_found", "no such path");
        response res{http::status::ok, version_};
        res.set(http::field::content_type, "text/html; charset=utf-8");
        res.body() = builtin_index_html();
        return send(std::move(res));
    }
    auto file = resolve_static(shard_.opts().static_dir, path);
    if (!file) return send_error(404, "not_found", "no such path");
    beast::error_code ec;
    http::file_body::value_type body;
    body.open(file->c_str(), beast::file_mode::scan, ec);
    if (ec) return send_error(404, "not_found", "no such path");
    const auto size = body.size();
    if (head) {
        auto res = std::make_shared<http::response<http::empty_body>>(http::status::ok, version_);
        res->set(http::field::content_type, mime_type(*file));
        res->content_length(size);
        res->keep_alive(keep_alive_);
        stream_.expires_after(shard_.opts().handshake_timeout);
        return http::async_write(stream_, *res, [self = shared_from_this(), res](beast::error_code e, std::size_t n) {
            self->on_write(!res->keep_alive(), e, n);
        });
    }
    auto res = std::make_shared<http::response<http::file_body>>(std::piecewise_construct, std::make_tuple(std::move(body)),
                                                                 std::make_tuple(http::status::ok, version_));
    res->set(http::field::content_type, mime_type(*file));
    res->content_length(size);
    res->keep_alive(keep_alive_);
    // A fresh deadline (the request's would cut the download short), long
    // enough for a client reading at 64 KiB/s; one that stops reading is
    // still dropped.
    stream_.expires_after(shard_.opts().handshake_timeout + std::chrono::seconds(size / (64 * 1024)));
    http::async_write(stream_, *res, [self = shared_from_this(), res](beast::error_code e, std::size_t n) {
        self->on_write(!res->keep_alive(), e, n);
    });
}

bool http_session::try_app_route(const request& req, const std::string& path, std::string_view query) {
    http_request r;
    r.method = std::string(req.method_string());
    r.path = path;
    r.query = query;
    for (const auto& f : req) r.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    r.body = req.body();
    auto once = std::make_shared<std::atomic<bool>>(false);
    auto self = shared_from_this();
    http_responder respond = [self, once](http_response out) {
        if (once->exchange(true)) return;  // a second answer would corrupt the stream
        asio::post(self->stream_.get_executor(), [self, out = std::move(out)]() mutable {
            response res{static_cast<http::status>(out.status), self->version_};
            try {
                res.set(http::field::content_type, out.content_type);
                for (auto& [k, v] : out.headers) res.set(k, v);
            } catch (const std::exception& e) {  // e.g. a header value Beast refuses
                return self->send_error(500, "internal_error", std::string("invalid response: ") + e.what());
            }
            res.body() = std::move(out.body);
            self->send(std::move(res));
        });
    };
    // An application route that throws must not take the hub's loop down.
    try {
        return shard_.opts().app_routes(r, respond);
    } catch (const std::exception& e) {
        if (once->exchange(true)) return true;  // it answered before throwing
        send_error(500, "internal_error", std::string("the application route failed: ") + e.what());
        return true;
    } catch (...) {
        if (once->exchange(true)) return true;
        send_error(500, "internal_error", "the application route failed");
        return true;
    }
}

http_session::response http_session::error_response(unsigned status, std::string_view code,
                                                   std::string_view message) const {
    response res{static_cast<http::status>(status), version_};
    res.set(http::field::content_type, "application/json");
    res.body() = core::error_body(code, message);
    return res;
}

void http_session::send_error(unsigned status, std::string_view code, std::string_view message, bool close) {
    if (close) keep_alive_ = false;
    send(error_response(status, code, message));
}

void http_session::send_method_not_allowed(std::string_view allow, std::string_view message) {
    auto res = error_response(405, "method_not_allowed", message);
    res.set(http::field::allow, allow);
    send(std::move(res));
}

void http_session::send(response&& r) {
    if (counting_publish_) {
        shard_.count_publish(r.result_int());
        counting_publish_ = false;
    }
    auto res = std::make_shared<response>(std::move(r));
    res->keep_alive(keep_alive_ && !shard_.stopping());
    res->prepare_payload();
    if (head_) res->body().clear();  // Content-Length stays that of the GET answer
    stream_.expires_after(shard_.opts().handshake_timeout);
    http::async_write(stream_, *res, [self = shared_from_this(), res](beast::error_code ec, std::size_t n) {
        self->on_write(!res->keep_alive(), ec, n);
    });
}

void http_session::on_write(bool close_after, beast::error_code ec, std::size_t) {
    if (ec) return close();
    if (close_after) {
        stream_.conn().shutdown_send();
        // Closing with unread input makes the kernel send RST, which can
        // destroy the response before the client reads it (e.g. a 413 sent
        // while the body is still arriving): read and discard until EOF.
        stream_.expires_after(shard_.opts().handshake_timeout);
        return do_discard();
    }
    do_read();
}

void http_session::do_discard() {
    buffer_.consume(buffer_.size());
    stream_.async_read_some(buffer_.prepare(16 * 1024), [self = shared_from_this()](beast::error_code ec, std::size_t) {
        if (ec) return self->close();
        self->do_discard();
    });
}

}  // namespace notifier::net
