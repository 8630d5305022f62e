// SPDX-License-Identifier: MIT
// http_session's WebSocket upgrade: the handshake checks, the refusals that
// must stay HTTP (origin, query) and those told after the upgrade (token,
// subscriptions), and the hand-over of the socket to a websocket_session.

#include "net/http_session.hpp"

#include "core/permissions.hpp"
#include "core/request_head.hpp"
#include "core/topic.hpp"
#include "core/upgrade_request.hpp"
#include "core/utf8.hpp"
#include "connection_slot.hpp"
#include "shard.hpp"
#include "net/websocket_session.hpp"

#include <boost/beast/core/string.hpp>

#include <openssl/evp.h>
#include <openssl/sha.h>

namespace notifier::net {

namespace beast = boost::beast;
namespace http = beast::http;

namespace {

// RFC 6455 section 4.2.2: base64(SHA-1(key + GUID)).
std::string websocket_accept(std::string_view key) {
    static constexpr std::string_view guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    std::string in(key);
    in += guid;
    unsigned char digest[SHA_DIGEST_LENGTH];
    SHA1(reinterpret_cast<const unsigned char*>(in.data()), in.size(), digest);
    unsigned char out[4 * ((SHA_DIGEST_LENGTH + 2) / 3) + 1];
    const int n = EVP_EncodeBlock(out, digest, SHA_DIGEST_LENGTH);
    return std::string(reinterpret_cast<char*>(out), static_cast<std::size_t>(n));
}

// A valid key is base64 of 16 bytes: 22 characters and "==".
bool is_valid_key(std::string_view k) {
    if (k.size() != 24 || k.substr(22) != "==") return false;
    for (std::size_t i = 0; i < 22; ++i) {
        const char c = k[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/'))
            return false;
    }
    return true;
}

}  // namespace

void http_session::upgrade(request&& req, const core::request_target& target) {
    if (req.method() != http::verb::get) return send_method_not_allowed("GET", "use GET with a WebSocket upgrade");
    if (req[http::field::sec_websocket_version] != "13") {
        auto res = error_response(426, "unsupported_version", "only WebSocket version 13 is supported");
        res.set(http::field::sec_websocket_version, "13");
        return send(std::move(res));
    }
    const auto key = req[http::field::sec_websocket_key];
    if (!is_valid_key(key)) return send_error(400, "invalid_handshake", "missing or malformed Sec-WebSocket-Key");
    // Cross-site WebSocket hijacking: a browser page from another origin
    // must not ride on the user's cookies or network position.
    if (!origin_allowed(req, target)) {
        NOTIFIER_LOG_INFO(shard_.log(), "forbidden_origin", {"remote", remote_address()},
                          {"origin", core::quotable(req[http::field::origin], 200)});
        return send_error(403, "forbidden_origin", "this origin may not open WebSockets here");
    }

    auto decided = authorize(req, target);
    if (std::holds_alternative<std::monostate>(decided)) return;  // answered
    if (auto* no = std::get_if<token_refusal>(&decided)) return refuse_upgrade(key, no->code, no->message, no->cc);
    auto& g = std::get<grant>(decided);
    std::string leftover = take_buffered();
    open_websocket(std::move(g.topics), g.implicit_all, std::move(g.resume), std::move(g.perms), g.exp)
        ->start(switching_protocols(key), std::move(leftover));
}

std::variant<std::monostate, http_session::grant, http_session::token_refusal> http_session::authorize(
    const request& req, const core::request_target& target) {
    auto parsed = core::parse_upgrade_request(target.origin_form, req[http::field::authorization],
                                              shard_.opts().max_subscriptions);
    if (auto* err = std::get_if<core::upgrade_error>(&parsed)) {
        send_error(err->status, err->code, err->message);
        return std::monostate{};
    }
    auto& query = std::get<core::upgrade_request>(parsed);
    grant g{std::move(query.topics), query.implicit_all, std::move(query.resume), core::permissions::all(), 0};
    if (shard_.auth_enabled()) {
        if (query.token.empty())
            return token_refusal{"unauthorized", "a token is required (?token= or Authorization: Bearer)",
                                 close_code::unauthorized};
        auto verified = shard_.verifier().verify(query.token, core::unix_now());
        if (auto* err = std::get_if<core::token_error>(&verified))
            return token_refusal{err->code, err->message, close_code::unauthorized};
        auto& claims = std::get<core::token_claims>(verified);
        g.perms = core::permissions::from_entries(std::move(claims.read));
        g.exp = claims.exp;
    }
    for (const auto& t : g.topics)
        if (!g.perms.allows(*core::parse_topic(t)))
            return token_refusal{"forbidden", "not allowed to read \"" + std::string(core::quotable(t, 300)) + "\"",
                                 close_code::forbidden};
    if (g.implicit_all) {
        // Everything this subscriber may read.
        if (g.perms.everything()) g.topics.emplace_back("*");
        else g.topics = g.perms.entries();
    }
    return g;
}

void http_session::log_refusal(std::string_view code, std::string_view message, close_code cc) {
    const bool unauthorized = cc == close_code::unauthorized;
    if (unauthorized) shard_.counts().auth_failures.add();
    NOTIFIER_LOG_INFO(shard_.log(), unauthorized ? "auth_failure" : "forbidden", {"remote", remote_address()},
                      {"stage", "handshake"}, {"code", code}, {"message", message});
}

// A token problem at connect is told after the upgrade, where a browser can
// read it (docs/protocol.md, "Refusals after the upgrade").
void http_session::refuse_upgrade(std::string_view key, std::string_view code, std::string_view message,
                                  close_code cc) {
    log_refusal(code, message, cc);
    buffer_.consume(buffer_.size());  // whatever the client sent along is not read
    open_websocket({}, false, {}, core::permissions::from_entries({}), 0)
        ->refuse(switching_protocols(key), code, message, cc);
}

std::shared_ptr<websocket_session> http_session::open_websocket(std::vector<std::string> topics, bool implicit_all,
                                                                core::resume_request resume, core::permissions perms,
                                                                std::int64_t exp) {
    upgraded_ = true;
    stream_.expires_never();
    auto session = std::make_shared<websocket_session>(shard_, stream_.release(), std::move(topics),
                                                       implicit_all, std::move(resume), std::move(perms), exp);
    session->set_slot(std::move(slot_));
    shard_.add_session(session);
    return session;
}

std::string http_session::switching_protocols(std::string_view key) {
    return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Accept: " + websocket_accept(key) + "\r\n\r\n";
}

std::string http_session::take_buffered() {
    const auto data = buffer_.data();
    std::string out(static_cast<const char*>(data.data()), data.size());
    buffer_.consume(buffer_.size());
    return out;
}

std::string http_session::remote_address() {
    beast::error_code ec;
    const auto remote = stream_.conn().socket().remote_endpoint(ec);
    return ec ? std::string("unknown") : remote.address().to_string();
}

bool http_session::origin_allowed(const request& req, const core::request_target& target) const {
    const std::string_view origin = req[http::field::origin];
    if (origin.empty()) return true;  // not a browser: nothing to hijack
    for (const auto& o : shard_.opts().allowed_origins)
        if (beast::iequals(o, origin)) return true;
    // The server's own origin: same host and port as the request, which an
    // absolute-form target names in place of Host (RFC 9112 section 3.2.2).
    // Over native TLS only https:// is ours; a plain listener may sit behind
    // a TLS proxy, so both schemes are.
    const std::string_view host =
        target.authority.empty() ? std::string_view(req[http::field::host]) : std::string_view(target.authority);
    for (std::string_view scheme : {"http://", "https://"})
        if ((scheme == "https://" || !stream_.is_tls()) && origin.size() == scheme.size() + host.size() && beast::iequals(origin.substr(0, scheme.size()), scheme) &&
            beast::iequals(origin.substr(scheme.size()), host) && !host.empty())
            return true;
    return false;
}

}  // namespace notifier::net
