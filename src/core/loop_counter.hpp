// SPDX-License-Identifier: MIT
#pragma once
// A counter written by one thread (the hub's loop) and read by any.

#include <atomic>
#include <cstdint>

namespace notifier::core {

/// Relaxed load and store, never a read-modify-write: with a single writer
/// no increment is lost, an increment costs what a plain one does (no lock
/// prefix), and readers on other threads see a recent value without a race.
class loop_counter {
public:
    void add(std::uint64_t n = 1) noexcept {
        v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    }
    std::uint64_t get() const noexcept { return v_.load(std::memory_order_relaxed); }

private:
    std::atomic<std::uint64_t> v_{0};
};

}  // namespace notifier::core
