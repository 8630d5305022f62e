// SPDX-License-Identifier: MIT
#include "core/history.hpp"

#include <algorithm>

namespace notifier::core {

history::history(std::size_t capacity) : ring_(std::max<std::size_t>(capacity, 1)) {}

void history::push(publication_ptr pub) {
    last_seq_ = pub->seq;
    ring_[last_seq_ % ring_.size()] = std::move(pub);
    if (size_ < ring_.size()) ++size_;
}

void history::reset(std::uint64_t seq) noexcept {
    std::fill(ring_.begin(), ring_.end(), nullptr);
    last_seq_ = seq;
    size_ = 0;
}

history_page::status history::read(std::uint64_t after, std::size_t max_count,
                                   std::vector<publication_ptr>& out) const {
    if (after > last_seq_) return history_page::status::future;
    // Everything after `after` must still be here: seq after + 1 at the latest.
    if (after + 1 < first_seq()) return history_page::status::gone;
    const std::uint64_t end = after + std::min<std::uint64_t>(max_count, last_seq_ - after);
    for (std::uint64_t s = after + 1; s <= end; ++s) out.push_back(ring_[s % ring_.size()]);
    return history_page::status::ok;
}

}  // namespace notifier::core
