// SPDX-License-Identifier: MIT
#pragma once
// A session's outbound queue: shared frames waiting to be gather-written.
// Pure (no sockets): the session asks for buffers and reports bytes written.

#include <cstddef>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

namespace notifier::core {

class write_queue {
public:
    /// `owner` keeps `bytes` alive (e.g. a shared publication) until written.
    void push(std::shared_ptr<const void> owner, std::string_view bytes);

    /// Fills `out` with views of the unwritten bytes, the first one starting
    /// after any partially written part; returns how many were filled.
    std::size_t gather(std::span<std::string_view> out) const noexcept;

    /// Marks `n` bytes as written, releasing fully written frames.
    void consume(std::size_t n) noexcept;

    /// Drops every frame not yet started; a partially written frame stays,
    /// since the peer must receive it whole before anything else, and so
    /// do pinned frames.
    void drop_unstarted() noexcept;

    /// Pins every frame queued now: drop_unstarted() keeps them (a
    /// handshake response and welcome the peer must get before a close).
    void pin_queued() noexcept { pinned_bytes_ = bytes_; }
    /// Pins at least the first `n` unwritten bytes: a write that must be
    /// retried with them (TLS: OpenSSL holds them in a record half sent).
    void pin_front(std::size_t n) noexcept {
        if (n > pinned_bytes_) pinned_bytes_ = n < bytes_ ? n : bytes_;
    }

    bool empty() const noexcept { return head_ == items_.size(); }
    std::size_t bytes() const noexcept { return bytes_; }
    std::size_t frames() const noexcept { return items_.size() - head_; }
    /// Frees the storage of an empty queue (idle sessions keep none).
    void shrink() noexcept;

private:
    struct item {
        std::shared_ptr<const void> owner;
        std::string_view bytes;
    };
    std::vector<item> items_;
    std::size_t head_ = 0;    // first unwritten item
    std::size_t offset_ = 0;  // bytes of items_[head_] already written
    std::size_t bytes_ = 0;   // unwritten bytes in total
    std::size_t pinned_bytes_ = 0;  // unwritten bytes at the front that drop_unstarted() keeps
};

}  // namespace notifier::core
