// SPDX-License-Identifier: MIT
#pragma once
// One WebSocket connection after the upgrade. Beast did the HTTP part; from
// here the session frames by itself (core/ws_frame*), so that every
// recipient of a publication writes the same shared bytes and all pending
// frames leave in one gather-write (writev) per loop turn.

#include "core/rate_limiter.hpp"
#include "core/ws_frame_parser.hpp"
#include "net/stream_session.hpp"

#include <span>

namespace notifier::net {

class websocket_session final : public stream_session {
public:
    websocket_session(shard& shard, connection conn, std::vector<std::string> topics, bool implicit_all,
                      core::resume_request resume, core::permissions perms, std::int64_t token_exp);
    ~websocket_session() override;

    /// Queues the 101 response, then the welcome (after the first history
    /// read when resuming), then handles `leftover` bytes and starts reading.
    void start(std::string handshake_response, std::string leftover);

    /// Refused at connect (a token problem): queues the 101 response, one
    /// `error` frame and a close frame with `code`, and waits for the
    /// client's close. A browser can read both, which it cannot from an
    /// HTTP error before the upgrade. Nothing else is ever sent.
    void refuse(std::string handshake_response, std::string_view error_code, std::string_view message,
                close_code code);

    bool deliver(const publication_ptr& pub, core::lazy_rows& rows) override;
    void flush() override;
    /// Starts the closing handshake (RFC 6455 section 7).
    void close(close_code code, std::string_view reason);
    /// Sends a ping, or drops the connection if the last one went unanswered.
    void ping_tick() override;
    /// The closing handshake with 1001.
    void shut_down() override { close(close_code::going_away, "server shutdown"); }
    /// `why` is logged when no close handshake took place.
    void terminate(std::string_view why = "connection ended") override;

    /// Sorted and unique.
    const std::vector<std::string>& topics() const noexcept { return subs_.names(); }

private:
    std::shared_ptr<websocket_session> self() {
        return std::static_pointer_cast<websocket_session>(shared_from_this());
    }
    void queue_welcome(std::string_view epoch, std::uint64_t seq, bool resumed) override;
    bool queue_resync(std::string_view epoch, std::uint64_t seq) override;
    void queue_replayed(const publication_ptr& pub) override { queue_.push(pub, pub->frame); }
    /// Welcome is queued: handle what the client sent along with its
    /// upgrade request, then read.
    void went_live() override;
    void expire() override { close(close_code::token_expired, "token expired"); }
    void close_slow_consumer() override { close(close_code::slow_consumer, "slow consumer"); }
    std::string_view size_field() const noexcept override { return "frame_bytes"; }
    void on_readable(const boost::system::error_code& ec) override;

    bool push_frame(std::string frame);  // false: closed as slow consumer
    /// Queues a frame the peer must get whatever is queued (handshake, close).
    void push_owned(std::string frame);
    bool push_json(std::string_view json);
    void do_read();
    void process(std::span<char> data);
    bool on_event(const core::ws_event& ev);
    void on_message(std::string_view text);
    // `ref`: the client's ref as JSON text, echoed in the answer (empty: none).
    void subscribe(const std::vector<std::string>& entries, std::string_view ref);
    void unsubscribe(const std::vector<std::string>& entries, std::string_view ref);
    void authenticate(const std::string& token, std::string_view ref);
    void on_drained();
    std::uint64_t subscribed_seq() const noexcept;

    core::ws_frame_parser parser_;
    core::rate_limiter rate_;  // inbound messages
    std::string leftover_;
    bool closed_by_server_ = false;
    bool close_sent_ = false;
    bool peer_closed_ = false;       // no more reading needed
    bool alive_ = true;              // something arrived since the last ping
    bool ping_outstanding_ = false;
};

}  // namespace notifier::net
