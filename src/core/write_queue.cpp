// SPDX-License-Identifier: MIT
#include "core/write_queue.hpp"

namespace notifier::core {

void write_queue::push(std::shared_ptr<const void> owner, std::string_view bytes) {
    if (bytes.empty()) return;
    // Reclaim the written prefix before growing, so the vector stays small.
    if (head_ > 0 && items_.size() == items_.capacity()) {
        items_.erase(items_.begin(), items_.begin() + static_cast<std::ptrdiff_t>(head_));
        head_ = 0;
    }
    items_.push_back({std::move(owner), bytes});
    bytes_ += bytes.size();
}

std::size_t write_queue::gather(std::span<std::string_view> out) const noexcept {
    std::size_t n = 0;
    for (std::size_t i = head_; i < items_.size() && n < out.size(); ++i, ++n) {
        out[n] = items_[i].bytes;
        if (i == head_) out[n].remove_prefix(offset_);
    }
    return n;
}

void write_queue::consume(std::size_t n) noexcept {
    bytes_ -= n;
    pinned_bytes_ -= n < pinned_bytes_ ? n : pinned_bytes_;
    while (n > 0 && head_ < items_.size()) {
        auto& it = items_[head_];
        const std::size_t left = it.bytes.size() - offset_;
        if (n < left) {
            offset_ += n;
            return;
        }
        n -= left;
        it.owner.reset();
        offset_ = 0;
        ++head_;
    }
    if (head_ == items_.size()) {
        items_.clear();
        head_ = 0;
    }
}

void write_queue::drop_unstarted() noexcept {
    std::size_t keep = head_;
    std::size_t kept_bytes = 0;
    // The partially written frame, then whatever the pinned bytes reach into.
    while (keep < items_.size() && ((keep == head_ && offset_ > 0) || kept_bytes < pinned_bytes_)) {
        kept_bytes += items_[keep].bytes.size() - (keep == head_ ? offset_ : 0);
        ++keep;
    }
    for (std::size_t i = keep; i < items_.size(); ++i) bytes_ -= items_[i].bytes.size();
    items_.resize(keep < items_.size() ? keep : items_.size());
    if (head_ == items_.size()) {
        items_.clear();
        head_ = 0;
    }
}

void write_queue::shrink() noexcept {
    if (!empty()) return;
    std::vector<item>().swap(items_);
    head_ = 0;
    offset_ = 0;
}

}  // namespace notifier::core
