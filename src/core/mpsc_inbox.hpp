#pragma once
// The hub's inbox: many producer threads (notify()), one consumer (the event
// loop). An intrusive multi-producer single-consumer queue (D. Vyukov's
// design): a push is one allocation and one atomic exchange, with no lock
// and nothing shared with the consumer but the head pointer, so notify()
// stays cheap while the loop drains concurrently. Pure: tested without
// sockets.

#include <atomic>
#include <cstddef>
#include <vector>

namespace notifier::core {

template <class T>
class mpsc_inbox {
public:
    mpsc_inbox() : head_(&stub_), tail_(&stub_) {}
    ~mpsc_inbox() {
        std::vector<T> drop;
        drain(drop, static_cast<std::size_t>(-1));
    }
    mpsc_inbox(const mpsc_inbox&) = delete;
    mpsc_inbox& operator=(const mpsc_inbox&) = delete;

    /// Any thread. Items pushed by one thread are drained in push order.
    void push(T&& v) {
        auto* n = new node;
        n->single = std::move(v);
        link(n, 1);
    }
    /// Any thread. The batch stays contiguous in what drain() returns.
    void push_batch(std::vector<T>&& batch) {
        if (batch.empty()) return;
        auto* n = new node;
        const auto count = batch.size();
        n->batch = std::move(batch);
        n->is_batch = true;
        link(n, count);
    }

    /// Consumer only. Moves items out, in order, until about `max_items`
    /// were taken (a batch is never split); returns how many. May return
    /// fewer than size() while a push is half done.
    std::size_t drain(std::vector<T>& out, std::size_t max_items) {
        std::size_t taken = 0;
        while (taken < max_items) {
            node* n = pop();
            if (!n) break;
            if (n->is_batch) {
                taken += n->batch.size();
                for (auto& v : n->batch) out.push_back(std::move(v));
            } else {
                ++taken;
                out.push_back(std::move(n->single));
            }
            delete n;
        }
        if (taken) consumed_.store(consumed_.load(std::memory_order_relaxed) + taken, std::memory_order_seq_cst);
        return taken;
    }

    /// Items pushed and not yet drained (exact once pushes completed).
    std::size_t size() const noexcept {
        // Consumed first: a concurrent drain can only make this an overestimate.
        const auto consumed = consumed_.load(std::memory_order_seq_cst);
        return produced_.load(std::memory_order_seq_cst) - consumed;
    }

private:
    struct node {
        std::atomic<node*> next{nullptr};
        T single{};
        std::vector<T> batch;
        bool is_batch = false;
    };

    void link(node* n, std::size_t count) {
        produced_.fetch_add(count, std::memory_order_seq_cst);
        node* prev = head_.exchange(n, std::memory_order_acq_rel);
        prev->next.store(n, std::memory_order_release);
    }

    node* pop() {
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
        stub_.next.store(nullptr, std::memory_order_relaxed);
        link_stub();
        next = tail->next.load(std::memory_order_acquire);
        if (next) {
            tail_ = next;
            return tail;
        }
        return nullptr;
    }

    void link_stub() {
        node* prev = head_.exchange(&stub_, std::memory_order_acq_rel);
        prev->next.store(&stub_, std::memory_order_release);
    }

    // Producer and consumer data on separate cache lines: a push must not
    // pull in a line the consumer just wrote.
    alignas(64) std::atomic<node*> head_;            // producers
    alignas(64) std::atomic<std::size_t> produced_{0};  // producers
    alignas(64) node* tail_;                         // consumer
    std::atomic<std::size_t> consumed_{0};           // consumer
    node stub_;
};

}  // namespace notifier::core
