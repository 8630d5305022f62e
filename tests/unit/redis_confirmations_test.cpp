// SPDX-License-Identifier: MIT
// Publish answers held until delivery: released in seq order, failed when
// their epoch is lost or the broker stops.

#include "broker/redis/redis_confirmations.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

using notifier::redis::redis_confirmations;

struct recorder {
    std::vector<std::string> log;
    redis_confirmations::answer make(std::string name) {
        return [this, name](bool ok) { log.push_back(name + (ok ? " ok" : " failed")); };
    }
};

struct scenario {
    const char* name;
    std::function<void(redis_confirmations&, recorder&)> steps;
    std::vector<std::string> expected;
    std::size_t left = 0;
};

class RedisConfirmations : public ::testing::TestWithParam<scenario> {};

TEST_P(RedisConfirmations, Log) {
    redis_confirmations c;
    recorder r;
    GetParam().steps(c, r);
    EXPECT_EQ(r.log, GetParam().expected);
    EXPECT_EQ(c.size(), GetParam().left);
}

INSTANTIATE_TEST_SUITE_P(
    Scenarios, RedisConfirmations,
    ::testing::Values(
        scenario{"ReleasedInSeqOrderUpToWhatWasDelivered",
                 [](auto& c, auto& r) {
                     c.add("e", 5, r.make("b"));
                     c.add("e", 3, r.make("a"));
                     c.add("e", 9, r.make("c"));
                     c.release(5);
                 },
                 {"a ok", "b ok"}, 1},
        scenario{"ANewEpochFailsThoseOfOthers",
                 [](auto& c, auto& r) {
                     c.add("old", 3, r.make("a"));
                     c.add("new", 4, r.make("b"));
                     c.fail_other_epochs("new");
                     c.release(4);
                 },
                 {"a failed", "b ok"}},
        scenario{"StopFailsEverything",
                 [](auto& c, auto& r) {
                     c.add("e", 3, r.make("a"));
                     c.add("f", 4, r.make("b"));
                     c.fail_all();
                 },
                 {"a failed", "b failed"}},
        scenario{"AnAnswerMayAddAnother",
                 [](auto& c, auto& r) {
                     c.add("e", 1, [&](bool) { c.add("e", 2, r.make("second")); });
                     c.release(2);
                 },
                 {"second ok"}}),
    [](const auto& info) { return std::string(info.param.name); });

}  // namespace
