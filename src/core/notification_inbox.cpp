// SPDX-License-Identifier: MIT
#include "core/notification_inbox.hpp"

#include "core/build_notification.hpp"

#include <algorithm>
#include <bit>
#include <cstring>

namespace notifier::core {

notification_inbox::notification_inbox(std::size_t slots)
    : head_(&stub_), tail_(&stub_), mask_(std::bit_ceil(std::max<std::size_t>(slots, 2)) - 1),
      slots_(new slot[mask_ + 1]) {
    for (std::size_t i = 0; i <= mask_; ++i) {
        slots_[i].k = kind::slot;
        slots_[i].seq.store(i, std::memory_order_relaxed);
    }
}

notification_inbox::~notification_inbox() {
    std::vector<notification> drop;
    drain(drop, static_cast<std::size_t>(-1));
}

// A slot is free when its seq equals the position that claims it; the
// consumer's release moves seq one lap ahead. Never waits: a taken slot
// means the slots are all in use and the caller takes the heap path.
notification_inbox::slot* notification_inbox::claim() noexcept {
    std::uint64_t pos = claim_pos_.load(std::memory_order_relaxed);
    for (;;) {
        slot& s = slots_[pos & mask_];
        const std::uint64_t seq = s.seq.load(std::memory_order_acquire);
        const auto diff = static_cast<std::int64_t>(seq - pos);
        if (diff == 0) {
            if (claim_pos_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) return &s;
        } else if (diff < 0) {
            return nullptr;
        } else {
            pos = claim_pos_.load(std::memory_order_relaxed);
        }
    }
}

void notification_inbox::release(slot* s) noexcept {
    // Release: our reads of the slot happen before the next owner's writes.
    s->seq.store(s->seq.load(std::memory_order_relaxed) + mask_ + 1, std::memory_order_release);
}

void notification_inbox::push(std::string_view collection, std::string_view action,
                              std::optional<std::string_view> id, std::optional<std::string_view> data) {
    const std::size_t id_size = id ? id->size() : 0, data_size = data ? data->size() : 0;
    const std::size_t total = collection.size() + action.size() + id_size + data_size;
    // Collection and action are at most 128 and 64 bytes once validated; the
    // size checks only guard the field widths against unvalidated callers.
    if (total <= inline_capacity && collection.size() <= 255 && action.size() <= 255) {
        if (slot* s = claim()) {
            char* p = s->bytes;
            std::memcpy(p, collection.data(), collection.size());
            p += collection.size();
            std::memcpy(p, action.data(), action.size());
            p += action.size();
            if (id_size) std::memcpy(p, id->data(), id_size);
            p += id_size;
            if (data_size) std::memcpy(p, data->data(), data_size);
            s->collection_size = static_cast<std::uint8_t>(collection.size());
            s->action_size = static_cast<std::uint8_t>(action.size());
            s->has_id = id.has_value();
            s->has_data = data.has_value();
            s->id_size = static_cast<std::uint16_t>(id_size);
            s->data_size = static_cast<std::uint32_t>(data_size);
            link(s, 1);
            return;
        }
        slot_misses_.fetch_add(1, std::memory_order_relaxed);
    }
    push(make_notification(collection, action, id, data));
}

void notification_inbox::push(notification&& n) {
    auto* h = new heap_node;
    h->k = kind::single;
    h->single = std::move(n);
    link(h, 1);
}

void notification_inbox::push_batch(std::vector<notification>&& batch) {
    if (batch.empty()) return;
    auto* h = new heap_node;
    h->k = kind::batch;
    const auto count = batch.size();
    h->batch = std::move(batch);
    link(h, count);
}

void notification_inbox::take(slot& s, std::vector<notification>& out) {
    auto& n = out.emplace_back();
    const char* p = s.bytes;
    n.collection.assign(p, s.collection_size);
    p += s.collection_size;
    n.action.assign(p, s.action_size);
    p += s.action_size;
    if (s.has_id) n.id.emplace(p, s.id_size);
    p += s.id_size;
    if (s.has_data) n.data.emplace(p, s.data_size);
}

std::size_t notification_inbox::drain(std::vector<notification>& out, std::size_t max_items) {
    std::size_t taken = 0;
    while (taken < max_items) {
        node* n = pop();
        if (!n) break;
        switch (n->k) {
            case kind::slot: {
                auto* s = static_cast<slot*>(n);
                take(*s, out);
                release(s);
                ++taken;
                break;
            }
            case kind::single: {
                auto* h = static_cast<heap_node*>(n);
                out.push_back(std::move(h->single));
                delete h;
                ++taken;
                break;
            }
            case kind::batch: {
                auto* h = static_cast<heap_node*>(n);
                taken += h->batch.size();
                for (auto& v : h->batch) out.push_back(std::move(v));
                delete h;
                break;
            }
            case kind::stub:
                break;  // pop() never returns the stub
        }
    }
    if (taken) consumed_.store(consumed_.load(std::memory_order_relaxed) + taken, std::memory_order_seq_cst);
    return taken;
}

void notification_inbox::link(node* n, std::size_t count) noexcept {
    n->next.store(nullptr, std::memory_order_relaxed);  // a reused slot still points at its old successor
    produced_.fetch_add(count, std::memory_order_seq_cst);
    node* prev = head_.exchange(n, std::memory_order_acq_rel);
    prev->next.store(n, std::memory_order_release);
}

notification_inbox::node* notification_inbox::pop() noexcept {
    node* tail = tail_;
    node* next = tail->next.load(std::memory_order_acquire);
    if (tail == &stub_) {
        if (!next) return nullptr;
        tail_ = next;
        tail = next;
        next = next->next.load(std::memory_order_acquire);
    }
    if (next) {
        tail_ = next;
        return tail;
    }
    if (tail != head_.load(std::memory_order_acquire)) return nullptr;  // a push is in progress
    link_stub();
    next = tail->next.load(std::memory_order_acquire);
    if (next) {
        tail_ = next;
        return tail;
    }
    return nullptr;
}

void notification_inbox::link_stub() noexcept {
    stub_.next.store(nullptr, std::memory_order_relaxed);
    node* prev = head_.exchange(&stub_, std::memory_order_acq_rel);
    prev->next.store(&stub_, std::memory_order_release);
}

}  // namespace notifier::core
