// SPDX-License-Identifier: MIT
#pragma once
// Where one connection stands in the stream of publications, and the resume
// state machine (docs/protocol.md, "Resuming"). A client that reconnects with
// `since` first gets what it missed from the history, page by page, then
// joins the live stream; a client that does not resume is live at once. The
// cursor decides what to send; the session does the I/O:
//
//   start()         at connect: the welcome, unless resuming
//   caught_up()     before each history read: whether the replay is over
//   on_page_status() each page first: the welcome of a resume, or a resync
//   on_page()       then, once live, the page's publications
//   take_live()     each live publication: deduplicated by seq
//   jump_to()       the history was reset: live from that seq
//
// Pure: publications in, decisions out.

#include "core/resume_request.hpp"

#include <notifier/broker/broker.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace notifier::core {

class replay_cursor {
public:
    struct welcome {
        std::string epoch;
        std::uint64_t seq = 0;
        bool resumed = false;
    };
    /// The client must reload: what it missed cannot be replayed; live
    /// delivery continues after `seq`.
    struct resync {
        std::string epoch;
        std::uint64_t seq = 0;
    };
    /// What a history page opens with.
    struct page_status {
        std::optional<welcome> hello;      ///< first page only: sent before anything else
        std::optional<resync> resync_now;  ///< after the welcome, if any
    };
    /// What a history page delivers.
    struct page_delivery {
        std::vector<publication_ptr> queue;  ///< in seq order
        std::optional<resync> resync_now;    ///< after the queued publications
    };

    explicit replay_cursor(resume_request resume) noexcept : resume_(std::move(resume)) {}

    /// At connect, with the shard's epoch and newest dispatched seq. Not
    /// resuming: the welcome to send, live at once. Resuming: nullopt, the
    /// cursor starts at `since` and the first page decides the welcome.
    std::optional<welcome> start(std::string_view epoch, std::uint64_t last_dispatched);

    /// The client asked to resume (`since` was given).
    bool resuming() const noexcept { return resume_.requested; }
    /// Reading the history; false once live.
    bool replaying() const noexcept { return replaying_; }
    /// The welcome went out (by start() or the first page).
    bool welcomed() const noexcept { return welcomed_; }
    /// The newest seq delivered or skipped.
    std::uint64_t last_seq() const noexcept { return last_seq_; }
    /// What to read next: `max_count` after last_seq() in this epoch (the
    /// client's, throughout the replay).
    const std::string& read_epoch() const noexcept { return resume_.epoch; }

    /// Before a read: true when the replay reached what the shard has
    /// dispatched; the replay is then over and the live stream continues.
    /// Never before the welcome (the first page decides it).
    bool caught_up(std::uint64_t last_dispatched) noexcept;

    /// A page's status, with the shard's epoch and newest dispatched seq.
    /// The first page decides the welcome: resumed when the history served
    /// it, otherwise a fresh welcome and a resync at once. A later page that
    /// the history refused (it moved past the cursor) is a resync.
    page_status on_page_status(const history_page& page, std::string_view epoch, std::uint64_t last_dispatched);

    /// A page's publications, once welcomed and live: those after the
    /// cursor that `wanted` accepts, in order; the cursor moves over every
    /// one. An empty page while behind what was dispatched means that the
    /// history lacks it, a resync, unless the page was read before those
    /// were stored (its last_seq is not past the cursor): that once, the
    /// replay reads again. Nothing for a refused page.
    page_delivery on_page(const history_page& page, std::string_view epoch, std::uint64_t last_dispatched,
                          const std::function<bool(const publication&)>& wanted);

    /// A live publication: true to deliver it, false while replaying (the
    /// replay reaches it through the history) or when already past `seq`.
    bool take_live(std::uint64_t seq) noexcept;

    /// A reset at `seq` (resync sent): live from there, replay over.
    void jump_to(std::uint64_t seq) noexcept;
    /// The connection is closing: no more reads.
    void stop() noexcept { replaying_ = false; }

private:
    resync resync_at(std::string_view epoch, std::uint64_t seq) noexcept;

    resume_request resume_;
    std::uint64_t last_seq_ = 0;  // newest seq delivered or skipped: dedupe and read position
    bool replaying_ = false;
    bool welcomed_ = false;
    bool raced_ = false;  // the last page was empty, read before what the shard has
};

}  // namespace notifier::core
