// SPDX-License-Identifier: MIT
#pragma once
// What a subscribed connection does whatever its transport (WebSocket,
// Server-Sent Events): its connection, write queue, subscriptions and
// replay cursor; flushing without blocking; replaying the history page by
// page before it goes live; watching the connection for input; the token's
// expiry and the close timer; leaving its shard at the end. The transports
// say how a welcome, a resync or a replayed publication is written, and
// what a close is.

#include <notifier/errors.hpp>
#include <notifier/publication.hpp>

#include "core/permissions.hpp"
#include "core/replay_cursor.hpp"
#include "core/resume_request.hpp"
#include "core/subscription_set.hpp"
#include "core/write_queue.hpp"
#include "net/connection.hpp"
#include "net/subscriber.hpp"

#include <boost/asio/steady_timer.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace notifier {
struct history_page;
class connection_slot;
class shard;
}  // namespace notifier

namespace notifier::net {

class stream_session : public subscriber, public std::enable_shared_from_this<stream_session> {
public:
    ~stream_session() override;
    /// Keeps the connection counted while the session lives.
    void set_slot(std::unique_ptr<connection_slot> slot);
    /// Ends the session (close code 4001) once its token expired, with the
    /// same leeway as at connect.
    void check_expiry(std::int64_t now) override;
    bool takes(std::uint64_t seq) const noexcept override {
        return state_ == state::open && !cursor_.replaying() && seq > cursor_.last_seq();
    }
    const std::vector<core::topic>& parsed_topics() const noexcept override { return subs_.topics(); }
    std::size_t queued_bytes() const noexcept override { return queue_.bytes(); }
    /// History lost: the client is told to reload, live delivery goes on after `seq`.
    void resync(std::string_view epoch, std::uint64_t seq) override;

protected:
    /// starting: until the welcome is queued; closing: our close (frame or
    /// event) is on its way; dead: the connection is closed.
    enum class state { starting, open, closing, dead };
    /// Publications read from the history per broker call while resuming.
    static constexpr std::size_t replay_page = 256;

    stream_session(shard& shard, connection conn, std::vector<std::string> topics, bool implicit_all,
                   core::resume_request resume, core::permissions perms, std::int64_t token_exp);

    // --- what each transport says ---
    virtual void queue_welcome(std::string_view epoch, std::uint64_t seq, bool resumed) = 0;
    /// Counted and logged; false when the session ended as a slow consumer.
    virtual bool queue_resync(std::string_view epoch, std::uint64_t seq) = 0;
    virtual void queue_replayed(const publication_ptr& pub) = 0;
    /// The first history page decided the welcome: the session is open.
    virtual void went_live() = 0;
    /// The token expired: close with 4001.
    virtual void expire() = 0;
    /// The queue is full and the client does not read: close with 4008.
    virtual void close_slow_consumer() = 0;
    /// What the slow_consumer log line calls the bytes that did not fit.
    virtual std::string_view size_field() const noexcept = 0;
    /// The connection may be read (or failed with `ec`).
    virtual void on_readable(const boost::system::error_code& ec) = 0;

    // --- what they share ---
    /// Whether `size` more bytes may be queued: true if they fit under
    /// max_queue_bytes, or if nothing is queued once the kernel took what it
    /// can (a single frame or event above the limit goes to a client that
    /// keeps up: docs/protocol.md, close code 4008). Otherwise closes the
    /// session as a slow consumer and returns false; false too when writing
    /// ended the session.
    bool make_room(std::size_t size);
    /// Writes what is queued; false while a write waits for the socket (the
    /// wait calls flush() again) or when the session ended, true once all
    /// is written. `wrote_` records that bytes left.
    bool write_out();
    /// Asks for history pages while replaying and the queue has room.
    void pump_replay();
    void on_history(history_page page);
    /// Waits for input; on_readable() follows.
    void watch_input();
    /// terminate("close timeout") unless the connection is gone within
    /// options::close_timeout.
    void arm_close_timer();
    /// The end, after the transport counted and logged it: closes the
    /// connection, drops what was queued, and leaves the shard on a later
    /// turn (terminate() can run inside the fan-out loop).
    void release();

    shard& shard_;      // its whole life on this one
    std::uint64_t id_;  // in logs only
    std::unique_ptr<connection_slot> slot_;
    connection conn_;
    core::write_queue queue_;
    core::subscription_set subs_;
    std::int64_t token_exp_;  // 0: no expiry
    core::replay_cursor cursor_;
    std::unique_ptr<boost::asio::steady_timer> close_timer_;  // only while closing
    std::string close_reason_;      // ours, or empty when the peer closed first
    std::uint16_t close_code_ = 0;  // sent or echoed; 0: none yet
    state state_ = state::starting;
    bool read_pending_ = false;  // a history read is in flight
    bool in_pump_ = false;
    bool reading_ = false;  // a wait for input is in flight
    bool writing_ = false;  // a wait for the socket to take more is in flight
    bool wrote_ = false;    // bytes left since the transport last cleared it
};

}  // namespace notifier::net
