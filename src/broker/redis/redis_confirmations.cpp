// SPDX-License-Identifier: MIT
#include "broker/redis/redis_confirmations.hpp"

#include <utility>

namespace notifier::redis {

void redis_confirmations::add(std::string epoch, std::uint64_t last, answer done) {
    waiting_.emplace(last, waiting{std::move(epoch), std::move(done)});
}

// Answers may publish again and so add: each is taken out before it runs.
void redis_confirmations::release(std::uint64_t delivered) {
    while (!waiting_.empty() && waiting_.begin()->first <= delivered) {
        auto done = std::move(waiting_.begin()->second.done);
        waiting_.erase(waiting_.begin());
        done(true);
    }
}

void redis_confirmations::fail_other_epochs(std::string_view epoch) {
    for (auto it = waiting_.begin(); it != waiting_.end();) {
        if (it->second.epoch == epoch) {
            ++it;
            continue;
        }
        auto done = std::move(it->second.done);
        it = waiting_.erase(it);
        done(false);
    }
}

void redis_confirmations::fail_all() {
    auto left = std::move(waiting_);
    waiting_.clear();
    for (auto& [_, w] : left) w.done(false);
}

}  // namespace notifier::redis
