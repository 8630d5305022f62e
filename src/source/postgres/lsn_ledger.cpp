// SPDX-License-Identifier: MIT
#include "source/postgres/lsn_ledger.hpp"

#include <algorithm>

namespace notifier::pg {

void lsn_ledger::received(lsn wal_end) noexcept { received_ = std::max(received_, wal_end); }

void lsn_ledger::keepalive(lsn wal_end) noexcept {
    server_end_ = std::max(server_end_, wal_end);
    received(wal_end);
}

bool lsn_ledger::take(lsn end) noexcept {
    // Sent again after a reconnect: handed over already. At or before the
    // confirmed position: the server counts it as processed (it was past a
    // keepalive's position), and confirming it again is all there is to do.
    if (end <= resume_from()) return false;
    submitted_end_ = end;
    return true;
}

void lsn_ledger::handed_over(lsn end, std::int64_t commit_time, std::size_t count) {
    pending_.push_back({end, count == 0, commit_time});
    in_flight_ += count;
}

void lsn_ledger::published(lsn end, std::size_t count) noexcept {
    // With a networked broker answers may come out of order, and only a
    // published transaction may be confirmed: find this one's entry.
    for (auto& e : pending_)
        if (e.end == end) {
            e.done = true;
            break;
        }
    in_flight_ -= std::min(in_flight_, count);
}

bool lsn_ledger::advance(bool in_transaction) noexcept {
    lsn c = confirmed_;
    while (!pending_.empty() && pending_.front().done) {
        c = std::max(c, pending_.front().end);
        pending_.pop_front();
    }
    if (pending_.empty() && !in_transaction) c = std::max(c, server_end_);
    if (c == confirmed_) return false;
    confirmed_ = c;
    return true;
}

}  // namespace notifier::pg
