// SPDX-License-Identifier: MIT
#pragma once
// The hub's inbox: many producer threads (notify()), one consumer (the event
// loop). Order comes from an intrusive multi-producer single-consumer list
// (D. Vyukov's design: one atomic exchange per push, no lock). What makes it
// cheap is where the nodes live: a small notification is copied into one of
// a fixed set of preallocated slots (claimed the way Vyukov's bounded queue
// claims a cell, released by the consumer), so the common notify() neither
// allocates nor leaves the loop to free memory allocated on another core,
// which is what cost most under glibc's malloc. Large notifications,
// batches and pushes that find every slot taken use heap nodes in the same
// list, so order and the item limit do not depend on the slots.
// Pure: tested without sockets.

#include <notifier/notification.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

namespace notifier::core {

class notification_inbox {
public:
    /// Bytes of collection, action, id and data that fit in a slot.
    static constexpr std::size_t inline_capacity = 216;

    /// `slots` is rounded up to a power of two (at least 2).
    explicit notification_inbox(std::size_t slots = 1024);
    ~notification_inbox();
    notification_inbox(const notification_inbox&) = delete;
    notification_inbox& operator=(const notification_inbox&) = delete;

    /// Any thread; the views are copied. Items pushed by one thread are
    /// drained in push order, whichever kind of node carries them.
    void push(std::string_view collection, std::string_view action, std::optional<std::string_view> id,
              std::optional<std::string_view> data);
    void push(notification&& n);
    /// Any thread. The batch stays contiguous in what drain() returns.
    void push_batch(std::vector<notification>&& batch);

    /// Consumer only. Moves items out, in order, until about `max_items`
    /// were taken (a batch is never split); returns how many. May return
    /// fewer than size() while a push is half done.
    std::size_t drain(std::vector<notification>& out, std::size_t max_items);

    /// Items pushed and not yet drained (exact once pushes completed).
    std::size_t size() const noexcept {
        // Consumed first: a concurrent drain can only make this an overestimate.
        const auto consumed = consumed_.load(std::memory_order_seq_cst);
        return produced_.load(std::memory_order_seq_cst) - consumed;
    }

    /// Single notifications that went to the heap although they would have
    /// fit a slot (every slot was taken). For tests and benchmarks.
    std::size_t slot_misses() const noexcept { return slot_misses_.load(std::memory_order_relaxed); }

private:
    enum class kind : std::uint8_t { stub, slot, single, batch };
    struct node {
        std::atomic<node*> next{nullptr};
        kind k = kind::stub;
    };
    struct alignas(64) slot : node {
        std::atomic<std::uint64_t> seq{0};  // == claim position when free
        std::uint8_t collection_size = 0, action_size = 0;
        bool has_id = false, has_data = false;
        std::uint16_t id_size = 0;
        std::uint32_t data_size = 0;
        char bytes[inline_capacity];
    };
    static_assert(sizeof(slot) == 256, "a slot is four cache lines");
    struct heap_node : node {
        notification single;
        std::vector<notification> batch;
    };

    slot* claim() noexcept;
    void release(slot* s) noexcept;
    void link(node* n, std::size_t count) noexcept;
    node* pop() noexcept;
    void link_stub() noexcept;
    static void take(slot& s, std::vector<notification>& out);

    // Producer and consumer data on separate cache lines: a push must not
    // pull in a line the consumer just wrote.
    alignas(64) std::atomic<node*> head_;               // producers
    alignas(64) std::atomic<std::uint64_t> claim_pos_{0};  // producers
    alignas(64) std::atomic<std::size_t> produced_{0};    // producers
    std::atomic<std::size_t> slot_misses_{0};             // producers, rarely
    alignas(64) node* tail_;                            // consumer
    std::atomic<std::size_t> consumed_{0};              // consumer
    node stub_;
    std::size_t mask_;
    std::unique_ptr<slot[]> slots_;
};

}  // namespace notifier::core
