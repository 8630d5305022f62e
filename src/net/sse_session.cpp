// SPDX-License-Identifier: MIT
#include "net/sse_session.hpp"

#include "core/sse_codec.hpp"
#include "connection_slot.hpp"
#include "shard.hpp"
#include "net/gather_write.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>

#include <limits>

namespace notifier::net {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

constexpr std::string_view crlf = "\r\n";
constexpr std::string_view last_chunk = "0\r\n\r\n";

}  // namespace

sse_session::sse_session(shard& shard, connection conn, std::vector<std::string> topics,
                         bool implicit_all, core::resume_request resume, core::permissions perms,
                         std::int64_t token_exp, bool chunked)
    : stream_session(shard, std::move(conn), std::move(topics), implicit_all, std::move(resume), std::move(perms),
                     token_exp),
      chunked_(chunked) {}

sse_session::~sse_session() = default;

void sse_session::start(std::string response_head) {
    error_code ec;
    conn_.socket().non_blocking(true, ec);
    if (ec) return terminate();
    shard_.counts().sse_opened.add();
    NOTIFIER_LOG_DEBUG(shard_.log(), "sse_open", {"session", id_}, {"subscriptions", subs_.names().size()},
                       {"resume", cursor_.resuming()});
    auto head = std::make_shared<const std::string>(std::move(response_head));
    queue_.push(head, *head);
    set_epoch(shard_.epoch());
    if (auto hello = cursor_.start(shard_.epoch(), shard_.last_dispatched())) {
        queue_welcome(hello->epoch, hello->seq, hello->resumed);
        went_live();
    } else {
        pump_replay();  // the first page decides the welcome
    }
    watch_input();
    flush();
}

void sse_session::refuse(std::string response_head, std::string_view error_code, std::string_view message,
                         close_code code) {
    boost::system::error_code ec;
    conn_.socket().non_blocking(true, ec);
    if (ec) return terminate();
    cursor_.stop();
    shard_.counts().sse_opened.add();
    auto head = std::make_shared<const std::string>(std::move(response_head));
    queue_.push(head, *head);
    end(code, code == close_code::forbidden ? "forbidden" : "unauthorized", error_code, message);
    watch_input();
    flush();
}

void sse_session::set_epoch(std::string_view epoch) {
    if (id_line_ && std::string_view(*id_line_).substr(4) == epoch) return;
    id_line_ = std::make_shared<const std::string>("id: " + std::string(epoch));
}

bool sse_session::deliver(const publication_ptr& pub, core::lazy_rows& rows) {
    if (state_ != state::open || !cursor_.take_live(pub->seq)) return false;
    if (!subs_.readable(*pub, rows)) return false;
    const auto tail = pub->sse_tail();
    if (!make_room(id_line_->size() + tail.size()) || state_ != state::open) return false;
    queue_replayed(pub);
    shard_.mark_dirty(this);
    return true;
}

void sse_session::queue_welcome(std::string_view epoch, std::uint64_t seq, bool resumed) {
    stage_owned(core::encode_sse_welcome(epoch, seq, resumed));
}

void sse_session::queue_replayed(const publication_ptr& pub) {
    stage(id_line_, *id_line_);
    stage(pub, pub->sse_tail());
}

void sse_session::stage(std::shared_ptr<const void> owner, std::string_view bytes) {
    staged_bytes_ += bytes.size();
    staged_.emplace_back(std::move(owner), bytes);
}

void sse_session::stage_owned(std::string text) {
    auto owner = std::make_shared<const std::string>(std::move(text));
    stage(owner, *owner);
}

bool sse_session::push_event(std::string text) {
    if (!make_room(text.size())) return false;
    stage_owned(std::move(text));
    return true;
}

bool sse_session::queue_resync(std::string_view epoch, std::uint64_t seq) {
    shard_.counts().resyncs.add();
    NOTIFIER_LOG_DEBUG(shard_.log(), "resync", {"session", id_}, {"epoch", epoch}, {"seq", seq});
    set_epoch(epoch);
    return push_event(core::encode_sse_resync(epoch, seq));
}

void sse_session::seal() {
    if (staged_.empty()) return;
    if (chunked_) {
        auto header = std::make_shared<const std::string>(core::chunk_header(staged_bytes_));
        queue_.push(header, *header);
    }
    for (auto& [owner, bytes] : staged_) queue_.push(std::move(owner), bytes);
    if (chunked_) queue_.push(nullptr, crlf);
    staged_.clear();
    staged_bytes_ = 0;
}

void sse_session::flush() {
    if (writing_ || state_ == state::dead) return;
    seal();
    if (!write_out()) return;
    queue_.shrink();
    if (state_ == state::closing) {
        // All written: end our side and let the client close its own (the
        // read watch sees it, or the end timer does), so that what it may
        // still send cannot turn our close into a reset that loses the end.
        conn_.shutdown_send();
        return;
    }
    if (cursor_.replaying()) pump_replay();
}

void sse_session::ping_tick() {
    if (state_ != state::open) return;
    if (queued_bytes() > 0) {
        // A client that took nothing for a whole interval while events
        // waited is gone or stalled (an EventSource has no pong to miss):
        // it is dropped, as a WebSocket that misses its pong is.
        if (waited_ && !wrote_) return terminate("stalled");
        waited_ = true;
        wrote_ = false;
        return;  // data keeps it alive
    }
    waited_ = false;
    wrote_ = false;
    stage(nullptr, core::sse_ping);
    shard_.mark_dirty(this);
}

void sse_session::end(close_code code, std::string_view reason, std::string_view error, std::string_view message) {
    if (state_ == state::dead || state_ == state::closing) return;
    state_ = state::closing;
    close_code_ = static_cast<std::uint16_t>(code);
    close_reason_ = reason;
    cursor_.stop();
    // Past the queue limit if need be: the backlog (bounded by it) and the
    // close event leave in order, or the timer below ends the connection.
    stage_owned(core::encode_sse_close(close_code_, reason, error, message));
    seal();
    if (chunked_) queue_.push(nullptr, last_chunk);
    arm_close_timer();
    shard_.mark_dirty(this);
}

void sse_session::on_readable(const error_code& ec) {
    if (state_ == state::dead) return;
    if (ec) return terminate();
    const auto buf = shard_.read_buffer();
    error_code rec;
    conn_.read_some(buf, rec);
    if (rec == asio::error::would_block || rec == asio::error::try_again) return watch_input();
    if (rec) return terminate(state_ == state::closing ? "stream ended" : "client went away");
    watch_input();
}

void sse_session::terminate(std::string_view why) {
    if (state_ == state::dead) return;
    auto self = shared_from_this();  // the shard may hold the last reference
    state_ = state::dead;
    const std::uint16_t code = close_code_ ? close_code_ : static_cast<std::uint16_t>(close_code::abnormal_closure);
    shard_.count_sse_close(code);
    NOTIFIER_LOG_DEBUG(shard_.log(), "sse_close", {"session", id_}, {"code", code},
                       {"reason", close_code_ ? std::string_view(close_reason_) : why});
    staged_.clear();
    staged_bytes_ = 0;
    release();
}

}  // namespace notifier::net
