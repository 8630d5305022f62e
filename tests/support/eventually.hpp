// SPDX-License-Identifier: MIT
#pragma once
// Waits, bounded, for a condition another thread makes true (e.g. a counter
// the hub updates on its own thread) where there is no event to wait on.

#include <chrono>
#include <thread>

namespace notifier::test {

template <class F>
bool eventually(F&& f, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
        if (f()) return true;
        std::this_thread::yield();
    }
    return f();
}

}  // namespace notifier::test
