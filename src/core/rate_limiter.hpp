// SPDX-License-Identifier: MIT
#pragma once
// The inbound message budget of one connection: a token bucket of
// `per_second` with bursts of `burst`, and a count of refusals in a row so
// that a client that keeps sending through its refusals is told to leave.
// Pure: time is an argument, so tests need no clock.

#include <chrono>
#include <cstddef>

namespace notifier::core {

class rate_limiter {
public:
    using time_point = std::chrono::steady_clock::time_point;

    enum class verdict {
        accept,  ///< within the budget: handle the message
        refuse,  ///< over it: answer with an error frame, keep the connection
        abuse,   ///< `burst` refusals in a row: close the connection
    };

    /// Starts with a full bucket at `now`.
    rate_limiter(double per_second, std::size_t burst, time_point now) noexcept;

    /// One inbound message at `now`. Times earlier than the last call add
    /// nothing to the bucket.
    verdict take(time_point now) noexcept;

    std::size_t refused_in_a_row() const noexcept { return refused_in_a_row_; }
    double tokens() const noexcept { return tokens_; }

private:
    double per_second_;
    std::size_t burst_;
    double tokens_;
    time_point refill_;  // when tokens_ was last topped up
    std::size_t refused_in_a_row_ = 0;
};

}  // namespace notifier::core
