// SPDX-License-Identifier: MIT
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace loadgen {

// Maps a publish index n to the publisher connection that sent it. Requests
// on one connection are strictly sequential (the next is sent only after the
// previous was acknowledged), so every client must see a given publisher's
// n values in increasing order; that is the out-of-order check. Notifications
// from different connections may legitimately interleave.
//
// The table is one large MAP_NORESERVE mapping: only pages actually written
// cost memory (2 bytes per publish), and indexing needs no lock. The
// publisher thread writes an entry before the request leaves the socket; the
// receiver can only see that n after the server got the request.
class publish_log {
public:
    explicit publish_log(std::size_t capacity = std::size_t(1) << 31);
    ~publish_log();
    publish_log(const publish_log&) = delete;
    publish_log& operator=(const publish_log&) = delete;

    void set_owner(std::uint64_t n, int publisher) noexcept {
        if (n < capacity_)
            std::atomic_ref<std::uint16_t>(table_[n]).store(std::uint16_t(publisher + 1),
                                                            std::memory_order_release);
    }

    // Publisher index, or -1 when n was never published by this process.
    int owner(std::uint64_t n) const noexcept {
        if (n >= capacity_) return -1;
        return int(std::atomic_ref<std::uint16_t>(table_[n]).load(std::memory_order_acquire)) - 1;
    }

private:
    std::uint16_t* table_ = nullptr;
    std::size_t capacity_ = 0;
};

}  // namespace loadgen
