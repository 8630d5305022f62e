// SPDX-License-Identifier: MIT
#pragma once
// One Server-Sent Events stream (GET /sse, docs/protocol.md "Server-Sent
// Events"): the same subscriptions, replay and delivery promise as a
// WebSocket, written as `text/event-stream`. A notification's event bytes
// are built once per publication (publication::sse_tail) and shared by
// every stream that receives it; what is queued leaves in one gather-write
// per loop turn, as one HTTP chunk.

#include "net/stream_session.hpp"

#include <utility>

namespace notifier::net {

class sse_session final : public stream_session {
public:
    /// `chunked`: HTTP/1.1 framing; an HTTP/1.0 stream ends by closing.
    sse_session(shard& shard, connection conn, std::vector<std::string> topics,
                bool implicit_all, core::resume_request resume, core::permissions perms, std::int64_t token_exp,
                bool chunked);
    ~sse_session() override;

    /// Writes the response head, then the welcome (after the first history
    /// read when resuming), and watches the connection for its end.
    void start(std::string response_head);
    /// A token problem at connect: the head, one `close` event naming the
    /// error (4401 or 4403), and the end of the stream. A browser's
    /// EventSource can read that, which it cannot from an HTTP error.
    void refuse(std::string response_head, std::string_view error_code, std::string_view message, close_code code);

    bool deliver(const publication_ptr& pub, core::lazy_rows& rows) override;
    void flush() override;
    /// A comment line, which keeps proxies from timing the stream out.
    void ping_tick() override;
    void shut_down() override { end(close_code::going_away, "server shutdown"); }
    void terminate(std::string_view why = "connection ended") override;
    std::size_t queued_bytes() const noexcept override { return queue_.bytes() + staged_bytes_; }
    bool is_event_stream() const noexcept override { return true; }

private:
    void queue_welcome(std::string_view epoch, std::uint64_t seq, bool resumed) override;
    bool queue_resync(std::string_view epoch, std::uint64_t seq) override;
    void queue_replayed(const publication_ptr& pub) override;
    void went_live() override {
        if (state_ == state::starting) state_ = state::open;
    }
    void expire() override { end(close_code::token_expired, "token expired"); }
    void close_slow_consumer() override { end(close_code::slow_consumer, "slow consumer"); }
    std::string_view size_field() const noexcept override { return "event_bytes"; }
    /// The client sends nothing after its request: reading only tells when
    /// it goes away. Whatever arrives is dropped.
    void on_readable(const boost::system::error_code& ec) override;

    /// Queues bytes for the next chunk; `owner` keeps them alive.
    void stage(std::shared_ptr<const void> owner, std::string_view bytes);
    void stage_owned(std::string text);
    bool push_event(std::string text);
    /// What is staged becomes one chunk in the write queue.
    void seal();
    /// The `close` event, the end of the body, and the end of the
    /// connection once they are written (or after close_timeout).
    void end(close_code code, std::string_view reason, std::string_view error = {}, std::string_view message = {});
    void set_epoch(std::string_view epoch);

    const bool chunked_;
    std::vector<std::pair<std::shared_ptr<const void>, std::string_view>> staged_;
    std::size_t staged_bytes_ = 0;
    std::shared_ptr<const std::string> id_line_;  // "id: <epoch>", shared by this stream's events
    bool waited_ = false;  // events waited at the last ping tick
};

}  // namespace notifier::net
