// SPDX-License-Identifier: MIT
#pragma once
// Where a replication stream stands: what was received, which transactions
// were handed to the hub and which of those it published, and so what the
// server may be told is processed (its slot then forgets it). Pure: the
// source feeds it positions and answers, unit tests and a fuzzer do too.
//
// Rules: a transaction ending at or before the newest one handed over, or
// the confirmed position, is not handed over again (the server repeats some
// after a reconnection); the
// confirmed position never passes a transaction that is not published, even
// when answers arrive out of order; while nothing is in flight and no
// transaction is open, the server's keepalive position is confirmed too, so
// a slot on a database whose other tables are busy does not keep WAL.

#include "source/postgres/pgoutput_decoder.hpp"

#include <cstddef>
#include <cstdint>
#include <deque>

namespace notifier::pg {

class lsn_ledger {
public:
    /// Receiving: the end of WAL an XLogData or a keepalive says the server has.
    void received(lsn wal_end) noexcept;
    /// A keepalive: everything the server sent before `wal_end` was seen.
    void keepalive(lsn wal_end) noexcept;

    /// True when the transaction ending at `end` was neither handed over
    /// nor confirmed yet; then it counts as handed over from here on,
    /// whatever follows.
    bool take(lsn end) noexcept;
    /// The transaction ending at `end` went to the hub with `count`
    /// notifications (0: nothing to publish, it is done already).
    void handed_over(lsn end, std::int64_t commit_time, std::size_t count);
    /// The hub published the transaction ending at `end` (`count` as handed over).
    void published(lsn end, std::size_t count) noexcept;

    /// Moves the confirmed position over every published transaction at
    /// the front; with nothing pending and `in_transaction` false, up to the
    /// newest keepalive position. True when it moved.
    bool advance(bool in_transaction) noexcept;

    lsn confirmed() const noexcept { return confirmed_; }
    lsn received() const noexcept { return received_; }
    /// Where a new stream starts: after everything handed over or confirmed.
    lsn resume_from() const noexcept { return submitted_end_ > confirmed_ ? submitted_end_ : confirmed_; }
    /// Notifications handed over and not yet published.
    std::size_t in_flight() const noexcept { return in_flight_; }
    bool idle() const noexcept { return pending_.empty(); }
    /// Commit time of the oldest transaction not yet published; 0 when none.
    std::int64_t oldest_pending_commit_time() const noexcept {
        return pending_.empty() ? 0 : pending_.front().commit_time;
    }

private:
    struct entry {
        lsn end;
        bool done;
        std::int64_t commit_time;  // µs since 2000-01-01
    };
    std::deque<entry> pending_;  // transactions handed over, in commit order
    std::size_t in_flight_ = 0;
    lsn submitted_end_ = 0;  // end of the newest transaction handed over
    lsn confirmed_ = 0;      // everything before it is published: the slot may forget it
    lsn received_ = 0;
    lsn server_end_ = 0;  // newest keepalive position
};

}  // namespace notifier::pg
