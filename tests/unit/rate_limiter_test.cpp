// SPDX-License-Identifier: MIT
// The inbound message budget: a token bucket and refusals in a row.

#include "core/rate_limiter.hpp"

#include <gtest/gtest.h>

#include <chrono>

namespace {

using namespace std::chrono_literals;
using notifier::core::rate_limiter;
using verdict = rate_limiter::verdict;

const rate_limiter::time_point t0{};

TEST(RateLimiter, StartsWithAFullBurst) {
    rate_limiter r(10, 3, t0);
    EXPECT_EQ(r.take(t0), verdict::accept);
    EXPECT_EQ(r.take(t0), verdict::accept);
    EXPECT_EQ(r.take(t0), verdict::accept);
    EXPECT_EQ(r.take(t0), verdict::refuse);
}

TEST(RateLimiter, RefillsAtTheRate) {
    rate_limiter r(10, 2, t0);
    EXPECT_EQ(r.take(t0), verdict::accept);
    EXPECT_EQ(r.take(t0), verdict::accept);
    EXPECT_EQ(r.take(t0 + 50ms), verdict::refuse);  // half a token
    EXPECT_EQ(r.take(t0 + 100ms), verdict::accept);  // one whole token
    EXPECT_EQ(r.take(t0 + 100ms), verdict::refuse);
}

TEST(RateLimiter, PartialTokensAddUp) {
    rate_limiter r(4, 5, t0);
    for (int i = 0; i < 5; ++i) ASSERT_EQ(r.take(t0), verdict::accept);
    EXPECT_EQ(r.take(t0 + 100ms), verdict::refuse);  // 0.4
    EXPECT_EQ(r.take(t0 + 200ms), verdict::refuse);  // 0.8
    EXPECT_EQ(r.take(t0 + 300ms), verdict::accept);  // 1.2
    EXPECT_EQ(r.take(t0 + 300ms), verdict::refuse);  // 0.2
}

TEST(RateLimiter, NeverHoldsMoreThanTheBurst) {
    rate_limiter r(100, 3, t0);
    const auto later = t0 + 1h;
    for (int i = 0; i < 3; ++i) EXPECT_EQ(r.take(later), verdict::accept) << i;
    EXPECT_EQ(r.take(later), verdict::refuse);
    EXPECT_LE(r.tokens(), 3.0);
}

TEST(RateLimiter, BurstRefusalsInARowAreAbuse) {
    rate_limiter r(1, 3, t0);
    for (int i = 0; i < 3; ++i) ASSERT_EQ(r.take(t0), verdict::accept);
    EXPECT_EQ(r.take(t0), verdict::refuse);
    EXPECT_EQ(r.refused_in_a_row(), 1u);
    EXPECT_EQ(r.take(t0), verdict::refuse);
    EXPECT_EQ(r.take(t0), verdict::abuse);  // the third in a row
    EXPECT_EQ(r.refused_in_a_row(), 3u);
}

TEST(RateLimiter, AnAcceptedMessageEndsTheRow) {
    rate_limiter r(1, 3, t0);
    for (int i = 0; i < 3; ++i) ASSERT_EQ(r.take(t0), verdict::accept);
    EXPECT_EQ(r.take(t0), verdict::refuse);
    EXPECT_EQ(r.take(t0), verdict::refuse);
    EXPECT_EQ(r.take(t0 + 1s), verdict::accept);
    EXPECT_EQ(r.refused_in_a_row(), 0u);
    EXPECT_EQ(r.take(t0 + 1s), verdict::refuse);
    EXPECT_EQ(r.take(t0 + 1s), verdict::refuse);
    EXPECT_EQ(r.take(t0 + 1s), verdict::abuse);
}

TEST(RateLimiter, BurstOfOneIsAbuseAtTheFirstRefusal) {
    rate_limiter r(1, 1, t0);
    EXPECT_EQ(r.take(t0), verdict::accept);
    EXPECT_EQ(r.take(t0), verdict::abuse);
}

TEST(RateLimiter, TimeGoingBackAddsNothing) {
    rate_limiter r(10, 1, t0 + 1s);
    EXPECT_EQ(r.take(t0 + 1s), verdict::accept);
    EXPECT_EQ(r.take(t0), verdict::abuse);
    // The refill counts from the newest time seen, not from the earlier one.
    EXPECT_EQ(r.take(t0 + 1s + 50ms), verdict::abuse);
    EXPECT_EQ(r.take(t0 + 1s + 100ms), verdict::accept);
}

TEST(RateLimiter, ZeroRateNeverRefills) {
    rate_limiter r(0, 2, t0);
    EXPECT_EQ(r.take(t0), verdict::accept);
    EXPECT_EQ(r.take(t0), verdict::accept);
    EXPECT_EQ(r.take(t0 + 24h), verdict::refuse);
    EXPECT_EQ(r.take(t0 + 48h), verdict::abuse);
}

TEST(RateLimiter, SteadyRateIsNeverRefused) {
    rate_limiter r(50, 100, t0);
    auto now = t0;
    for (int i = 0; i < 10000; ++i) {
        now += 20ms;
        ASSERT_EQ(r.take(now), verdict::accept) << i;
    }
}

}  // namespace
