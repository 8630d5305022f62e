// SPDX-License-Identifier: MIT
#include "net/websocket_session.hpp"

#include "core/protocol_codec.hpp"
#include "core/topic.hpp"
#include "core/ws_frame.hpp"
#include "connection_slot.hpp"
#include "shard.hpp"
#include "net/gather_write.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>

#include <algorithm>
#include <limits>

namespace notifier::net {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

const std::shared_ptr<const std::string>& ping_frame() {
    static const auto f = std::make_shared<const std::string>(core::make_frame(core::ws_opcode::ping, {}));
    return f;
}

}  // namespace

websocket_session::websocket_session(shard& shard, connection conn, std::vector<std::string> topics,
                                     bool implicit_all, core::resume_request resume, core::permissions perms,
                                     std::int64_t token_exp)
    : stream_session(shard, std::move(conn), std::move(topics), implicit_all, std::move(resume), std::move(perms),
                     token_exp),
      parser_(shard.opts().max_message_bytes),
      rate_(shard.opts().max_messages_per_second, shard.opts().message_burst, std::chrono::steady_clock::now()) {}

websocket_session::~websocket_session() = default;

void websocket_session::start(std::string handshake_response, std::string leftover) {
    error_code ec;
    conn_.socket().non_blocking(true, ec);
    if (ec) return terminate();
    leftover_ = std::move(leftover);
    shard_.counts().ws_opened.add();
    if (shard_.log().enabled(log_level::debug)) {
        const auto remote = conn_.socket().remote_endpoint(ec);
        std::string addr = "unknown";
        if (!ec) {
            const bool v6 = remote.address().is_v6();
            addr = (v6 ? "[" : "") + remote.address().to_string() + (v6 ? "]:" : ":") + std::to_string(remote.port());
        }
        NOTIFIER_LOG_DEBUG(shard_.log(), "ws_open", {"session", id_}, {"remote", addr},
                           {"subscriptions", subs_.names().size()}, {"resume", cursor_.resuming()});
    }
    push_owned(std::move(handshake_response));
    if (auto hello = cursor_.start(shard_.epoch(), shard_.last_dispatched())) {
        queue_welcome(hello->epoch, hello->seq, hello->resumed);
        went_live();
    } else {
        pump_replay();  // the first page decides the welcome
    }
    flush();
}

void websocket_session::refuse(std::string handshake_response, std::string_view error_code,
                               std::string_view message, close_code code) {
    boost::system::error_code ec;
    conn_.socket().non_blocking(true, ec);
    if (ec) return terminate();
    cursor_.stop();
    push_owned(std::move(handshake_response));
    push_json(core::encode_error(error_code, message));
    queue_.pin_queued();
    // The details are in the frame; the reason names the class of refusal.
    close(code, code == close_code::forbidden ? "forbidden" : "unauthorized");
    flush();
    if (state_ != state::dead) do_read();  // for the client's close frame
}

void websocket_session::queue_welcome(std::string_view epoch, std::uint64_t seq, bool resumed) {
    push_json(core::encode_welcome(epoch, seq, resumed));
}

void websocket_session::went_live() {
    if (state_ != state::starting) return;
    state_ = state::open;
    // The 101 response and the welcome reach the client even if what it sent
    // along closes the connection at once.
    queue_.pin_queued();
    if (!leftover_.empty()) {
        std::string data = std::move(leftover_);
        process(std::span<char>(data.data(), data.size()));
    }
    if (state_ != state::dead) do_read();
}

bool websocket_session::deliver(const publication_ptr& pub, core::lazy_rows& rows) {
    if (state_ != state::open || !cursor_.take_live(pub->seq)) return false;
    // Subscriptions stay within permissions; a filtered grant holds
    // delivery there as well.
    if (!subs_.readable(*pub, rows)) return false;
    if (!make_room(pub->frame.size()) || state_ != state::open) return false;
    queue_.push(pub, pub->frame);
    shard_.mark_dirty(this);
    return true;
}

void websocket_session::push_owned(std::string frame) {
    auto owner = std::make_shared<const std::string>(std::move(frame));
    queue_.push(owner, *owner);
}

bool websocket_session::push_frame(std::string frame) {
    if (!make_room(frame.size())) return false;
    push_owned(std::move(frame));
    return true;
}

bool websocket_session::push_json(std::string_view json) {
    return push_frame(core::make_frame(core::ws_opcode::text, json));
}

bool websocket_session::queue_resync(std::string_view epoch, std::uint64_t seq) {
    shard_.counts().resyncs.add();
    NOTIFIER_LOG_DEBUG(shard_.log(), "resync", {"session", id_}, {"epoch", epoch}, {"seq", seq});
    return push_json(core::encode_resync(epoch, seq));
}

void websocket_session::flush() {
    if (writing_ || state_ == state::dead) return;
    if (write_out()) on_drained();
}

void websocket_session::on_drained() {
    queue_.shrink();
    if (state_ == state::closing && close_sent_ && peer_closed_) return terminate();
    if (cursor_.replaying()) pump_replay();
}

void websocket_session::do_read() {
    if (!peer_closed_) watch_input();
}

void websocket_session::on_readable(const error_code& ec) {
    if (state_ == state::dead) return;
    if (ec) return terminate();
    const auto buf = shard_.read_buffer();
    error_code rec;
    const std::size_t n = conn_.read_some(buf, rec);
    if (rec == asio::error::would_block || rec == asio::error::try_again) return do_read();
    if (rec) return terminate();  // EOF or reset: nothing more to say to this peer
    alive_ = true;
    process(std::span<char>(buf.data(), n));
    if (state_ == state::dead) return;
    flush();
    do_read();
}

void websocket_session::process(std::span<char> data) {
    auto self = shared_from_this();
    parser_.feed(data, [this](const core::ws_event& ev) { return on_event(ev); });
    if (!parser_.stopped()) parser_.shrink();
}

bool websocket_session::on_event(const core::ws_event& ev) {
    using kind = core::ws_event::kind;
    switch (ev.type) {
        case kind::text:
        case kind::ping:
            if (state_ != state::open) return state_ != state::dead;
            switch (rate_.take(std::chrono::steady_clock::now())) {
                case core::rate_limiter::verdict::accept:
                    break;
                case core::rate_limiter::verdict::refuse:
                    push_json(core::encode_error("rate_limited", "too many messages; slow down"));
                    return state_ != state::dead;
                case core::rate_limiter::verdict::abuse:
                    close(close_code::policy_violation, "message rate exceeded");
                    peer_closed_ = true;
                    return false;
            }
            if (ev.type == kind::text) on_message(ev.payload);
            else push_frame(core::make_frame(core::ws_opcode::pong, ev.payload));
            return state_ != state::dead;
        case kind::pong:
            ping_outstanding_ = false;
            return true;
        case kind::close:
            peer_closed_ = true;
            if (state_ == state::open) {
                // Echo the status code (RFC 6455 section 5.5.1); none given → empty close.
                close_code_ = ev.code;
                state_ = state::closing;
                queue_.drop_unstarted();
                push_owned(ev.code == static_cast<std::uint16_t>(close_code::no_status_received)
                               ? core::make_frame(core::ws_opcode::close, {})
                                           : core::make_close_frame(ev.code, {}));
                close_sent_ = true;
                // A peer that closes and then stops reading must not keep
                // its connection: the answer gets close_timeout to leave.
                arm_close_timer();
            }
            flush();
            return false;
        case kind::error: {
            const auto why = static_cast<close_code>(ev.code);
            const char* reason = why == close_code::unsupported_data ? "binary frames not supported"
                               : why == close_code::invalid_payload  ? "invalid utf-8"
                               : why == close_code::message_too_big  ? "message too big"
                                                                     : "protocol error";
            close(why, reason);
            peer_closed_ = true;  // do not wait for an answer from a broken peer
            flush();
            return false;
        }
    }
    return false;
}

void websocket_session::on_message(std::string_view text) {
    auto parsed = core::parse_client_message(text);
    if (auto* err = std::get_if<core::protocol_error>(&parsed)) {
        push_json(core::encode_error(err->code, err->message, err->ref));
        return;
    }
    auto& msg = std::get<core::client_message>(parsed);
    switch (msg.type) {
        case core::client_message::kind::ping:
            push_json(core::encode_pong(msg.ref));
            break;
        case core::client_message::kind::subscribe:
            subscribe(msg.collections, msg.ref);
            break;
        case core::client_message::kind::unsubscribe:
            unsubscribe(msg.collections, msg.ref);
            break;
        case core::client_message::kind::auth:
            authenticate(msg.token, msg.ref);
            break;
    }
}

void websocket_session::authenticate(const std::string& token, std::string_view ref) {
    if (!shard_.auth_enabled()) {
        push_json(core::encode_error("auth_disabled", "this server does not use tokens", ref));
        return;
    }
    auto verified = shard_.verifier().verify(token, core::unix_now());
    if (auto* err = std::get_if<core::token_error>(&verified)) {
        shard_.counts().auth_failures.add();
        NOTIFIER_LOG_INFO(shard_.log(), "auth_failure", {"session", id_}, {"stage", "message"}, {"code", err->code},
                           {"message", err->message});
        push_json(core::encode_error(err->code, err->message, ref));  // the old token stays in force
        return;
    }
    auto& claims = std::get<core::token_claims>(verified);
    token_exp_ = claims.exp;
    // The claim is parsed and indexed once, here; then each check is O(1).
    // Drop what the new token no longer allows.
    const bool changed = subs_.restrict_to(core::permissions::from_entries(std::move(claims.read)),
                                           [this](const core::topic& t) { shard_.unsubscribe(this, t); });
    push_json(core::encode_authenticated(token_exp_, ref));
    // Not an answer to a frame of the client's: no ref.
    if (changed) push_json(core::encode_subscribed(subs_.names(), subscribed_seq()));
}

void websocket_session::subscribe(const std::vector<std::string>& entries, std::string_view ref) {
    auto refused = subs_.subscribe(
        entries, [this](const core::topic& t) { shard_.unsubscribe(this, t); },
        [this](const core::topic& t) { shard_.subscribe(this, t); });
    if (refused) {
        push_json(core::encode_error(refused->code, refused->message, ref));
        return;
    }
    push_json(core::encode_subscribed(subs_.names(), subscribed_seq(), ref));
}

void websocket_session::unsubscribe(const std::vector<std::string>& entries, std::string_view ref) {
    subs_.unsubscribe(entries, [this](const core::topic& t) { shard_.unsubscribe(this, t); });
    push_json(core::encode_subscribed(subs_.names(), subscribed_seq(), ref));
}

// Every notification after this seq is matched against the set as it is
// now: while replaying, the pages not yet queued are filtered when they
// arrive; live, the fan-out has not reached those after last_dispatched —
// unless the replay went further (a history page can hold publications this
// shard has yet to fan out, which take_live() will then skip).
std::uint64_t websocket_session::subscribed_seq() const noexcept {
    return cursor_.replaying() ? cursor_.last_seq() : std::max(cursor_.last_seq(), shard_.last_dispatched());
}

void websocket_session::close(close_code code, std::string_view reason) {
    if (state_ == state::dead || state_ == state::closing) return;
    const bool slow = code == close_code::slow_consumer;
    close_code_ = static_cast<std::uint16_t>(code);
    close_reason_ = reason;
    closed_by_server_ = true;
    state_ = state::closing;
    cursor_.stop();
    // A slow consumer cannot take what is queued; anything else leaves first.
    if (slow) queue_.drop_unstarted();
    push_owned(core::make_close_frame(static_cast<std::uint16_t>(code), reason));
    close_sent_ = true;
    arm_close_timer();
    shard_.mark_dirty(this);
}

void websocket_session::ping_tick() {
    if (state_ != state::open) return;
    if (ping_outstanding_ && !alive_) return terminate("ping timeout");
    alive_ = false;
    ping_outstanding_ = true;
    const auto& f = ping_frame();
    if (!make_room(f->size()) || state_ != state::open) return;
    queue_.push(f, *f);
    shard_.mark_dirty(this);
}

void websocket_session::terminate(std::string_view why) {
    if (state_ == state::dead) return;
    auto self = shared_from_this();  // the hub may hold the last reference
    state_ = state::dead;
    // The code RFC 6455 (section 7.1.5) reserves for "no close frame".
    const std::uint16_t code = close_code_ ? close_code_ : static_cast<std::uint16_t>(close_code::abnormal_closure);
    // Codes a client picks (3000-4999) are one series: it must not grow /metrics.
    shard_.count_close(!closed_by_server_ && code >= 3000 ? 0 : code);
    NOTIFIER_LOG_DEBUG(shard_.log(), "ws_close", {"session", id_}, {"code", code},
                       {"reason", close_code_ ? std::string_view(close_reason_) : why},
                       {"by", close_code_ == 0 ? "none" : closed_by_server_ ? "server" : "client"});
    release();
}

}  // namespace notifier::net
