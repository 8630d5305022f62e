// SPDX-License-Identifier: MIT
#pragma once
// Publish answers held until this node delivered what they confirm, as with
// one server: Redis numbers a batch before the channel brings it back. Pure;
// single-threaded (the hub's intake loop).

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>

namespace notifier::redis {

class redis_confirmations {
public:
    /// Called with true once delivered, false when its epoch was lost first.
    using answer = std::function<void(bool delivered)>;

    /// Holds `done` until seq `last` of `epoch` is delivered.
    void add(std::string epoch, std::uint64_t last, answer done);

    /// Everything up to `delivered` (in the current epoch) was delivered.
    void release(std::uint64_t delivered);

    /// A new epoch began: publications numbered in any other will never be
    /// delivered.
    void fail_other_epochs(std::string_view epoch);

    /// The broker stops: nothing held will be delivered.
    void fail_all();

    std::size_t size() const noexcept { return waiting_.size(); }

private:
    struct waiting {
        std::string epoch;
        answer done;
    };
    std::multimap<std::uint64_t, waiting> waiting_;  // by the batch's last seq
};

}  // namespace notifier::redis
