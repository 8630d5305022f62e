// SPDX-License-Identifier: MIT
#include "net/stream_session.hpp"

#include "connection_slot.hpp"
#include "net/gather_write.hpp"
#include "shard.hpp"

#include <boost/asio/post.hpp>

#include <limits>

namespace notifier::net {

namespace asio = boost::asio;
using boost::system::error_code;

stream_session::stream_session(shard& shard, connection conn, std::vector<std::string> topics, bool implicit_all,
                               core::resume_request resume, core::permissions perms, std::int64_t token_exp)
    : shard_(shard),
      id_(shard.new_session_id()),
      conn_(std::move(conn)),
      subs_(std::move(topics), implicit_all, std::move(perms), shard.opts().max_subscriptions),
      token_exp_(token_exp),
      cursor_(std::move(resume)) {}

stream_session::~stream_session() = default;

void stream_session::set_slot(std::unique_ptr<connection_slot> slot) { slot_ = std::move(slot); }

void stream_session::check_expiry(std::int64_t now) {
    // Saturating: an exp far in the future (clamped to INT64_MAX) never ends.
    if (state_ != state::open || token_exp_ == 0) return;
    const std::int64_t leeway = shard_.opts().jwt_leeway.count();
    const std::int64_t limit = token_exp_ > std::numeric_limits<std::int64_t>::max() - leeway
                                   ? std::numeric_limits<std::int64_t>::max()
                                   : token_exp_ + leeway;
    if (now >= limit) expire();
}

bool stream_session::make_room(std::size_t size) {
    const std::size_t limit = shard_.opts().max_queue_bytes;
    if (queued_bytes() + size <= limit) return true;
    // Over the limit: hand what we can to the kernel first; only a client
    // whose socket buffer is full as well is slow.
    if (!writing_) flush();
    if (state_ != state::open && state_ != state::starting) return false;
    if (queued_bytes() == 0 || queued_bytes() + size <= limit) return true;
    shard_.counts().slow_consumers.add();
    NOTIFIER_LOG_DEBUG(shard_.log(), "slow_consumer", {"session", id_}, {"queued_bytes", queued_bytes()},
                       {size_field(), size}, {"limit", limit});
    close_slow_consumer();
    return false;
}

void stream_session::resync(std::string_view epoch, std::uint64_t seq) {
    if (state_ != state::open) return;
    cursor_.jump_to(seq);
    if (queue_resync(epoch, seq)) shard_.mark_dirty(this);
}

bool stream_session::write_out() {
    const auto w = gather_write(conn_, queue_);
    if (w.failed) {
        terminate();
        return false;
    }
    if (w.wrote) wrote_ = true;
    if (queue_.empty()) return true;
    writing_ = true;
    conn_.async_wait_writable([self = shared_from_this()](const error_code& ec) {
        self->writing_ = false;
        if (self->state_ == state::dead) return;
        if (ec) return self->terminate();
        self->flush();
    });
    return false;
}

void stream_session::pump_replay() {
    if (in_pump_) return;
    in_pump_ = true;
    auto self = shared_from_this();
    while (cursor_.replaying() && !read_pending_ && (state_ == state::open || state_ == state::starting) &&
           queued_bytes() < shard_.opts().max_queue_bytes / 2) {
        if (cursor_.caught_up(shard_.last_dispatched())) break;  // the live stream continues from here
        read_pending_ = true;
        shard_.read_history(cursor_.read_epoch(), cursor_.last_seq(), replay_page,
                            [self](history_page page) { self->on_history(std::move(page)); });
    }
    in_pump_ = false;
}

void stream_session::on_history(history_page page) {
    read_pending_ = false;
    if (state_ != state::open && state_ != state::starting) return;
    const bool first = !cursor_.welcomed();
    const auto status = cursor_.on_page_status(page, shard_.epoch(), shard_.last_dispatched());
    if (status.hello) queue_welcome(status.hello->epoch, status.hello->seq, status.hello->resumed);
    if (status.resync_now) queue_resync(status.resync_now->epoch, status.resync_now->seq);
    if (first) went_live();
    if (state_ == state::open) {
        const auto step = cursor_.on_page(page, shard_.epoch(), shard_.last_dispatched(),
                                          [this](const publication& pub) { return subs_.wants(pub); });
        for (const auto& pub : step.queue) queue_replayed(pub);
        shard_.counts().deliveries.add(step.queue.size());
        if (step.resync_now) queue_resync(step.resync_now->epoch, step.resync_now->seq);
    }
    if (state_ == state::dead) return;
    flush();
    if (cursor_.replaying() && !in_pump_) pump_replay();
}

void stream_session::watch_input() {
    if (reading_ || state_ == state::dead) return;
    reading_ = true;
    conn_.async_wait_readable([self = shared_from_this()](const error_code& ec) {
        self->reading_ = false;
        self->on_readable(ec);
    });
}

void stream_session::arm_close_timer() {
    close_timer_ = std::make_unique<asio::steady_timer>(conn_.socket().get_executor(), shard_.opts().close_timeout);
    close_timer_->async_wait([self = shared_from_this()](const error_code& ec) {
        if (!ec) self->terminate("close timeout");
    });
}

void stream_session::release() {
    cursor_.stop();
    if (close_timer_) close_timer_->cancel();
    conn_.close();
    queue_.drop_unstarted();
    queue_.consume(queue_.bytes());
    asio::post(conn_.socket().get_executor(),
               [self = shared_from_this()] { self->shard_.remove_session(self.get()); });
}

}  // namespace notifier::net
