// SPDX-License-Identifier: MIT
// http_session's GET /sse: the same query, token, origin and limit rules as
// the WebSocket upgrade, resume by Last-Event-ID, and the hand-over of the
// socket to an sse_session (docs/protocol.md, "Server-Sent Events").

#include "net/http_session.hpp"

#include "core/sse_codec.hpp"
#include "core/utf8.hpp"
#include "connection_slot.hpp"
#include "shard.hpp"
#include "net/sse_session.hpp"

namespace notifier::net {

namespace http = boost::beast::http;

namespace {

// The head of the stream's response; the body is chunked over HTTP/1.1 and
// ends with the connection over HTTP/1.0.
std::string stream_head(unsigned version, std::string_view allowed_origin) {
    std::string h = version == 10 ? "HTTP/1.0 200 OK\r\n" : "HTTP/1.1 200 OK\r\n";
    h += "Content-Type: text/event-stream\r\nCache-Control: no-cache\r\nX-Accel-Buffering: no\r\n";
    if (version != 10) h += "Transfer-Encoding: chunked\r\n";
    // The connection ends with the stream: no client may send another
    // request on it.
    h += "Connection: close\r\n";
    if (!allowed_origin.empty()) {
        // A page of another origin that may subscribe reads the stream.
        h += "Access-Control-Allow-Origin: " + std::string(allowed_origin) + "\r\nVary: Origin\r\n";
    }
    h += "\r\n";
    return h;
}

}  // namespace

void http_session::serve_sse(request&& req, const core::request_target& target) {
    if (req.method() != http::verb::get) return send_method_not_allowed("GET", "use GET");
    if (!origin_allowed(req, target)) {
        NOTIFIER_LOG_INFO(shard_.log(), "forbidden_origin", {"remote", remote_address()},
                          {"origin", core::quotable(req[http::field::origin], 200)});
        return send_error(403, "forbidden_origin", "this origin may not open event streams here");
    }
    // What a browser's EventSource sends on its own when it reconnects: it
    // wins over since and epoch in the query.
    std::optional<core::resume_request> last_event;
    if (const auto v = req["Last-Event-ID"]; !v.empty()) {
        last_event = core::parse_last_event_id(v);
        if (!last_event) return send_error(400, "invalid_query", "Last-Event-ID must be <epoch>:<seq>");
    }
    auto decided = authorize(req, target);
    if (std::holds_alternative<std::monostate>(decided)) return;  // answered
    const auto head = stream_head(version_, req[http::field::origin]);
    if (auto* no = std::get_if<token_refusal>(&decided)) {
        log_refusal(no->code, no->message, no->cc);
        return open_sse({}, false, {}, core::permissions::from_entries({}), 0)->refuse(head, no->code, no->message, no->cc);
    }
    auto& g = std::get<grant>(decided);
    if (last_event) g.resume = std::move(*last_event);
    open_sse(std::move(g.topics), g.implicit_all, std::move(g.resume), std::move(g.perms), g.exp)->start(head);
}

std::shared_ptr<sse_session> http_session::open_sse(std::vector<std::string> topics, bool implicit_all,
                                                    core::resume_request resume, core::permissions perms,
                                                    std::int64_t exp) {
    upgraded_ = true;
    stream_.expires_never();
    buffer_.consume(buffer_.size());  // the client sends nothing more that we read
    auto session = std::make_shared<sse_session>(shard_, stream_.release(), std::move(topics), implicit_all,
                                                 std::move(resume), std::move(perms), exp, version_ != 10);
    session->set_slot(std::move(slot_));
    shard_.add_session(session);
    return session;
}

}  // namespace notifier::net
