// SPDX-License-Identifier: MIT
#include "core/replay_cursor.hpp"

#include <algorithm>

namespace notifier::core {

std::optional<replay_cursor::welcome> replay_cursor::start(std::string_view epoch, std::uint64_t last_dispatched) {
    if (resume_.requested) {
        replaying_ = true;
        last_seq_ = resume_.since;
        return std::nullopt;
    }
    welcomed_ = true;
    last_seq_ = last_dispatched;
    return welcome{std::string(epoch), last_dispatched, false};
}

bool replay_cursor::caught_up(std::uint64_t last_dispatched) noexcept {
    if (!welcomed_ || last_seq_ < last_dispatched) return false;
    replaying_ = false;
    return true;
}

replay_cursor::resync replay_cursor::resync_at(std::string_view epoch, std::uint64_t seq) noexcept {
    last_seq_ = seq;
    replaying_ = false;
    return resync{std::string(epoch), seq};
}

replay_cursor::page_status replay_cursor::on_page_status(const history_page& page, std::string_view epoch,
                                                         std::uint64_t last_dispatched) {
    const bool ok = page.result == history_page::status::ok;
    page_status out;
    if (!welcomed_) {
        welcomed_ = true;
        if (ok) {
            // The client's epoch, numbered up to whichever is newer.
            out.hello = welcome{page.epoch, std::max(page.last_seq, last_dispatched), true};
        } else {
            // unknown_epoch, gone or future: start over at the shard's position.
            out.hello = welcome{std::string(epoch), last_dispatched, false};
            out.resync_now = resync_at(epoch, last_dispatched);
        }
    } else if (!ok) {
        // The history moved past the cursor while replaying.
        out.resync_now = resync_at(epoch, last_dispatched);
    }
    return out;
}

replay_cursor::page_delivery replay_cursor::on_page(const history_page& page, std::string_view epoch,
                                                    std::uint64_t last_dispatched,
                                                    const std::function<bool(const publication&)>& wanted) {
    page_delivery out;
    if (page.result != history_page::status::ok) return out;
    for (const auto& pub : page.pubs) {
        if (pub->seq <= last_seq_) continue;
        if (wanted(*pub)) out.queue.push_back(pub);
        last_seq_ = pub->seq;
    }
    if (!page.pubs.empty() || last_seq_ >= last_dispatched) {
        raced_ = false;
        return out;
    }
    // Empty while behind. The read may have run before the shard's newest
    // publications were stored (it is served on the intake, answered here
    // later): read once more, which is then after them. Still nothing, or a
    // history that holds newer ones and gave none, means it lacks them.
    if (page.last_seq <= last_seq_ && !raced_) {
        raced_ = true;
        return out;
    }
    raced_ = false;
    out.resync_now = resync_at(epoch, last_dispatched);
    return out;
}

bool replay_cursor::take_live(std::uint64_t seq) noexcept {
    if (replaying_ || seq <= last_seq_) return false;
    last_seq_ = seq;
    return true;
}

void replay_cursor::jump_to(std::uint64_t seq) noexcept {
    replaying_ = false;
    last_seq_ = seq;
}

}  // namespace notifier::core
