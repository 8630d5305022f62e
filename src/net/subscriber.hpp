// SPDX-License-Identifier: MIT
#pragma once
// What a shard sees of a subscribed connection, whatever its transport
// (WebSocket, Server-Sent Events): the fan-out hands it publications, the
// flush writes what it queued, the timers and the stop sequence reach it.

#include <notifier/publication.hpp>

#include "core/notification_rows.hpp"
#include "core/topic.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace notifier::net {

class subscriber {
public:
    virtual ~subscriber() = default;

    /// A live publication the index matched. Ignored while replaying (the
    /// replay reaches it through the history) and when already delivered.
    /// True when queued (counted by the caller: one add per fan-out step).
    virtual bool deliver(const publication_ptr& pub, core::lazy_rows& rows) = 0;
    /// False when deliver() would ignore the publication `seq` (already
    /// taken, or replaying): the index then skips this subscriber's other
    /// filters.
    virtual bool takes(std::uint64_t seq) const noexcept = 0;
    /// Writes whatever is queued without blocking.
    virtual void flush() = 0;
    /// History lost: tell the client to reload; live delivery continues after seq.
    virtual void resync(std::string_view epoch, std::uint64_t seq) = 0;
    /// Hub timer: keep the connection alive, or drop it if it went silent.
    virtual void ping_tick() = 0;
    /// Hub timer: end the connection once its token expired (`now` in seconds).
    virtual void check_expiry(std::int64_t now) = 0;
    /// The hub stops: say so (code 1001) and end the connection.
    virtual void shut_down() = 0;
    /// Closes the socket at once and leaves the shard.
    virtual void terminate(std::string_view why = "connection ended") = 0;

    /// The subscriptions, parsed: what the shard's index holds for it.
    virtual const std::vector<core::topic>& parsed_topics() const noexcept = 0;
    virtual std::size_t queued_bytes() const noexcept = 0;
    /// A Server-Sent Events stream rather than a WebSocket (for /metrics).
    virtual bool is_event_stream() const noexcept { return false; }

    bool dirty = false;  // owned by shard::mark_dirty
};

}  // namespace notifier::net
