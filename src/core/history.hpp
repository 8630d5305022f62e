// SPDX-License-Identifier: MIT
#pragma once
// The bounded history of publications kept for resume: a ring buffer indexed
// by seq. Pure, so resume logic is tested without sockets.

#include <notifier/broker/broker.hpp>

#include <cstdint>
#include <vector>

namespace notifier::core {

class history {
public:
    /// Keeps the last `capacity` publications (at least one).
    explicit history(std::size_t capacity);

    /// Appends; `pub->seq` must be last_seq() + 1 (or anything when empty).
    void push(publication_ptr pub);

    /// Seq of the oldest stored publication; last_seq() + 1 when empty.
    std::uint64_t first_seq() const noexcept { return last_seq_ + 1 - size_; }
    std::uint64_t last_seq() const noexcept { return last_seq_; }
    std::size_t size() const noexcept { return size_; }
    std::size_t capacity() const noexcept { return ring_.size(); }

    /// Starts counting after `seq` with nothing stored (a fresh epoch).
    void reset(std::uint64_t seq) noexcept;

    /// Appends to `out` up to `max_count` publications with seq > `after` and
    /// says whether that continues `after` without a gap.
    history_page::status read(std::uint64_t after, std::size_t max_count,
                              std::vector<publication_ptr>& out) const;

private:
    std::vector<publication_ptr> ring_;
    std::uint64_t last_seq_ = 0;
    std::size_t size_ = 0;
};

}  // namespace notifier::core
