// SPDX-License-Identifier: MIT
#pragma once
// Collects what a change source emits, through a notifier sink, with
// deadline-bound waits: shared by the SQLite and PostgreSQL source tests.

#include <notifier/notifier.hpp>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <utility>
#include <vector>

namespace notifier::test {

class collector {
public:
    /// `limit`: how long wait_for() waits by default.
    explicit collector(std::chrono::milliseconds limit = std::chrono::seconds(10)) : limit_(limit) {}

    notifier make_notifier() {
        return notifier([this](notification&& n) {
            std::lock_guard lock(mutex_);
            got_.push_back(std::move(n));
            cv_.notify_all();
        });
    }
    /// Waits until at least `n` notifications arrived (or the deadline);
    /// returns them all.
    std::vector<notification> wait_for(std::size_t n) { return wait_for(n, limit_); }
    std::vector<notification> wait_for(std::size_t n, std::chrono::milliseconds timeout) {
        std::unique_lock lock(mutex_);
        cv_.wait_for(lock, timeout, [&] { return got_.size() >= n; });
        return got_;
    }
    /// Everything so far.
    std::vector<notification> snapshot() {
        std::lock_guard lock(mutex_);
        return got_;
    }
    /// Everything so far, and forgets it.
    std::vector<notification> take() {
        std::lock_guard lock(mutex_);
        return std::exchange(got_, {});
    }
    std::size_t size() {
        std::lock_guard lock(mutex_);
        return got_.size();
    }

private:
    std::chrono::milliseconds limit_;
    std::mutex mutex_;
    std::condition_variable cv_;
    std::vector<notification> got_;
};

}  // namespace notifier::test
