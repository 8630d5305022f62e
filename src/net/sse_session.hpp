// SPDX-License-Identifier: MIT
#pragma once
// One Server-Sent Events stream (GET /sse, docs/protocol.md "Server-Sent
// Events"): the same subscriptions, replay and delivery promise as a
// WebSocket, written as `text/event-stream`. A notification's event bytes
// are built once per publication (publication::sse_tail) and shared by
// every stream that receives it; what is queued leaves in one gather-write
// per loop turn, as one HTTP chunk.

#include <notifier/errors.hpp>
#include <notifier/publication.hpp>

#include "core/permissions.hpp"
#include "core/replay_cursor.hpp"
#include "core/resume_request.hpp"
#include "core/subscription_set.hpp"
#include "core/write_queue.hpp"
#include "net/connection.hpp"
#include "net/subscriber.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace notifier {
struct history_page;
class connection_slot;
class shard;
}  // namespace notifier

namespace notifier::net {

class sse_session final : public subscriber, public std::enable_shared_from_this<sse_session> {
public:
    /// `chunked`: HTTP/1.1 framing; an HTTP/1.0 stream ends by closing.
    sse_session(shard& shard, connection conn, std::vector<std::string> topics,
                bool implicit_all, core::resume_request resume, core::permissions perms, std::int64_t token_exp,
                bool chunked);
    ~sse_session() override;
    void set_slot(std::unique_ptr<connection_slot> slot);

    /// Writes the response head, then the welcome (after the first history
    /// read when resuming), and watches the connection for its end.
    void start(std::string response_head);
    /// A token problem at connect: the head, one `close` event naming the
    /// error (4401 or 4403), and the end of the stream. A browser's
    /// EventSource can read that, which it cannot from an HTTP error.
    void refuse(std::string response_head, std::string_view error_code, std::string_view message, close_code code);

    bool deliver(const publication_ptr& pub, core::lazy_rows& rows) override;
    bool takes(std::uint64_t seq) const noexcept override {
        return state_ == state::open && !cursor_.replaying() && seq > cursor_.last_seq();
    }
    void flush() override;
    void resync(std::string_view epoch, std::uint64_t seq) override;
    /// A comment line, which keeps proxies from timing the stream out.
    void ping_tick() override;
    void check_expiry(std::int64_t now) override;
    void shut_down() override { end(close_code::going_away, "server shutdown"); }
    void terminate(std::string_view why = "connection ended") override;
    const std::vector<core::topic>& parsed_topics() const noexcept override { return subs_.topics(); }
    std::size_t queued_bytes() const noexcept override { return queue_.bytes() + staged_bytes_; }
    bool is_event_stream() const noexcept override { return true; }

private:
    enum class state { starting, open, ending, dead };

    /// Queues bytes for the next chunk; `owner` keeps them alive.
    void stage(std::shared_ptr<const void> owner, std::string_view bytes);
    void stage_owned(std::string text);
    /// Whether `size` more bytes may be queued (max_queue_bytes; a single
    /// event above it still goes to a stream with nothing pending). Ends
    /// the stream as a slow consumer (4008) and returns false otherwise.
    bool make_room(std::size_t size);
    bool push_event(std::string text);
    void push_publication(const publication_ptr& pub);
    bool push_resync(std::string_view epoch, std::uint64_t seq);
    /// What is staged becomes one chunk in the write queue.
    void seal();
    /// The `close` event, the end of the body, and the end of the
    /// connection once they are written (or after close_timeout).
    void end(close_code code, std::string_view reason, std::string_view error = {}, std::string_view message = {});
    void set_epoch(std::string_view epoch);
    void watch();
    void on_readable(const boost::system::error_code& ec);
    void pump_replay();
    void on_history(history_page page);

    shard& shard_;  // its whole life on this one
    std::uint64_t id_;
    std::unique_ptr<connection_slot> slot_;
    connection conn_;
    const bool chunked_;
    core::write_queue queue_;
    std::vector<std::pair<std::shared_ptr<const void>, std::string_view>> staged_;
    std::size_t staged_bytes_ = 0;
    core::subscription_set subs_;
    std::int64_t token_exp_;  // 0: no expiry
    core::replay_cursor cursor_;
    std::shared_ptr<const std::string> id_line_;  // "id: <epoch>", shared by this stream's events
    std::unique_ptr<boost::asio::steady_timer> end_timer_;  // only while ending
    std::uint16_t close_code_ = 0;
    std::string close_reason_;
    state state_ = state::starting;
    bool read_pending_ = false;  // a history read is in flight
    bool in_pump_ = false;
    bool reading_ = false;
    bool writing_ = false;
    bool waited_ = false;  // events waited at the last ping tick
    bool wrote_ = false;   // bytes left since the last ping tick
};

}  // namespace notifier::net
