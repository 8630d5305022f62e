// SPDX-License-Identifier: MIT
// Who receives a notification: "*", collection, (collection, id) and
// filtered subscribers.

#include "core/subscription_index.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace {

using index_t = notifier::core::subscription_index<int>;
using notifier::core::lazy_rows;
using notifier::core::parse_topic;

std::vector<int> match(const index_t& idx, std::string_view collection, std::string_view id,
                       std::string_view json = R"({"seq":1})") {
    std::vector<int> keys;
    lazy_rows rows(json);
    idx.match(collection, id, rows, [&](int k) { keys.push_back(k); });
    std::sort(keys.begin(), keys.end());
    return keys;
}

using keys = std::vector<int>;

// A scenario is a list of steps run in order against one index: changes
// and what the index must answer after them.
struct step {
    enum kind_t { add, remove, matches, collections, empty } kind;
    std::string_view collection = "";
    std::string_view id = "";
    int key = 0;  // add/remove: the key; collections: the count; empty: 0 or 1
    keys expected = {};
};

step add(std::string_view c, std::string_view id, int key) { return {step::add, c, id, key}; }
step remove(std::string_view c, std::string_view id, int key) { return {step::remove, c, id, key}; }
step expect(std::string_view c, std::string_view id, keys k) { return {step::matches, c, id, 0, std::move(k)}; }
step collections(int n) { return {step::collections, "", "", n}; }
step is_empty(bool yes) { return {step::empty, "", "", yes ? 1 : 0}; }

struct scenario {
    const char* name;
    std::vector<step> steps;
};

class SubscriptionIndexScenario : public ::testing::TestWithParam<scenario> {};

TEST_P(SubscriptionIndexScenario, Steps) {
    index_t idx;
    for (std::size_t i = 0; i < GetParam().steps.size(); ++i) {
        const auto& s = GetParam().steps[i];
        SCOPED_TRACE("step " + std::to_string(i));
        switch (s.kind) {
            case step::add: idx.add(s.collection, s.id, s.key); break;
            case step::remove: idx.remove(s.collection, s.id, s.key); break;
            case step::matches: EXPECT_EQ(match(idx, s.collection, s.id), s.expected); break;
            case step::collections: EXPECT_EQ(idx.collections(), std::size_t(s.key)); break;
            case step::empty: EXPECT_EQ(idx.empty(), s.key == 1); break;
        }
    }
}

INSTANTIATE_TEST_SUITE_P(
    SubscriptionIndex, SubscriptionIndexScenario,
    ::testing::Values(
        scenario{"EmptyMatchesNothing",
                 {is_empty(true), collections(0), expect("posts", "7", {}), expect("posts", "", {})}},
        scenario{"StarGetsEverything",
                 {add("*", "", 1), is_empty(false),
                  collections(0),  // "*" is not a collection
                  expect("posts", "", {1}), expect("posts", "7", {1}), expect("forums", "x/y", {1})}},
        scenario{"CollectionSubscribersGetTheWholeCollection",
                 {add("posts", "", 1), add("posts", "", 2), add("forums", "", 3), collections(2),
                  expect("posts", "", {1, 2}), expect("posts", "7", {1, 2}), expect("forums", "1", {3}),
                  expect("users", "1", {}),
                  // Names are exact: no prefix matching, case sensitive.
                  expect("post", "", {}), expect("Posts", "", {}), expect("posts2", "", {})}},
        scenario{"RecordSubscribersOnlyGetTheirId",
                 {add("posts", "7", 1), add("posts", "8", 2), add("posts", "7", 3), collections(1),
                  expect("posts", "7", {1, 3}), expect("posts", "8", {2}), expect("posts", "9", {}),
                  expect("posts", "77", {}), expect("forums", "7", {})}},
        // One call per topic the key is subscribed to: callers deduplicate.
        scenario{"EveryLevelReportedOnce",
                 {add("*", "", 1), add("posts", "", 1), add("posts", "7", 1), add("posts", "7", 2),
                  expect("posts", "7", {1, 1, 1, 2}), expect("posts", "8", {1, 1}), expect("forums", "7", {1})}},
        // Adding twice is idempotent: one remove undoes it.
        scenario{"AddingTwiceIsIdempotent",
                 {add("*", "", 1), add("*", "", 1), add("posts", "", 2), add("posts", "", 2),
                  add("posts", "7", 3), add("posts", "7", 3), expect("posts", "7", {1, 2, 3}),
                  remove("*", "", 1), remove("posts", "", 2), remove("posts", "7", 3),
                  expect("posts", "7", {}), is_empty(true)}},
        scenario{"Remove",
                 {add("*", "", 1), add("posts", "", 2), add("posts", "", 3), add("posts", "7", 4),
                  add("posts", "7", 5),
                  remove("posts", "", 2), expect("posts", "7", {1, 3, 4, 5}),
                  remove("posts", "7", 4), expect("posts", "7", {1, 3, 5}),
                  remove("*", "", 1), expect("posts", "7", {3, 5}), expect("forums", "", {})}},
        scenario{"RemovingUnknownEntriesIsHarmless",
                 {add("posts", "7", 1), remove("*", "", 1), remove("forums", "", 1), remove("posts", "", 1),
                  remove("posts", "8", 1), remove("posts", "7", 2), expect("posts", "7", {1}), collections(1)}},
        scenario{"RemoveOnlyAffectsTheGivenTopic",
                 {add("posts", "", 1), add("posts", "7", 1), remove("posts", "7", 1), expect("posts", "7", {1}),
                  collections(1), add("posts", "7", 1), remove("posts", "", 1), expect("posts", "7", {1}),
                  expect("posts", "8", {}), collections(1)}},
        scenario{"CollectionsShrinkToZero",
                 {add("*", "", 9), add("posts", "", 1), add("posts", "7", 2), add("posts", "8", 2),
                  add("forums", "3", 1), collections(2),
                  remove("posts", "", 1), collections(2),  // ids still subscribed
                  remove("posts", "7", 2), collections(2), remove("posts", "8", 2), collections(1),
                  remove("forums", "3", 1), collections(0),
                  is_empty(false),  // "*" is left
                  remove("*", "", 9), is_empty(true), expect("posts", "7", {})}}),
    [](const ::testing::TestParamInfo<scenario>& info) { return std::string(info.param.name); });

TEST(SubscriptionIndex, MatchWithoutIdSkipsRecordSubscribers) {
    index_t idx;
    idx.add("posts", "7", 1);
    idx.add("posts", "", 2);
    int calls = 0;
    lazy_rows rows("{}");
    idx.match("posts", "", rows, [&](int k) {
        ++calls;
        EXPECT_NE(k, 1);
    });
    EXPECT_EQ(calls, 1);
}

TEST(SubscriptionIndex, ManyKeysAndTopics) {
    index_t idx;
    constexpr int n_collections = 50, n_ids = 20;
    // Key k subscribes to collection k % 50 and to record (k % 50, k % 20).
    for (int k = 0; k < 1000; ++k) {
        const auto c = "c" + std::to_string(k % n_collections);
        idx.add(c, "", k);
        idx.add(c, std::to_string(k % n_ids), k + 100000);
    }
    EXPECT_EQ(idx.collections(), std::size_t(n_collections));
    for (int c = 0; c < n_collections; ++c) {
        for (int id = 0; id < n_ids; ++id) {
            keys expected;
            for (int k = 0; k < 1000; ++k) {
                if (k % n_collections != c) continue;
                expected.push_back(k);
                if (k % n_ids == id) expected.push_back(k + 100000);
            }
            std::sort(expected.begin(), expected.end());
            ASSERT_EQ(match(idx, "c" + std::to_string(c), std::to_string(id)), expected) << c << "/" << id;
        }
    }
    for (int k = 0; k < 1000; ++k) {
        const auto c = "c" + std::to_string(k % n_collections);
        idx.remove(c, "", k);
        idx.remove(c, std::to_string(k % n_ids), k + 100000);
    }
    EXPECT_EQ(idx.collections(), 0u);
    EXPECT_TRUE(idx.empty());
}

TEST(SubscriptionIndex, PointerKeys) {
    notifier::core::subscription_index<const void*> idx;
    int a = 0, b = 0;
    idx.add("posts", "1", &a);
    idx.add("posts", "", &b);
    std::vector<const void*> got;
    lazy_rows rows("{}");
    idx.match("posts", "1", rows, [&](const void* k) { got.push_back(k); });
    ASSERT_EQ(got.size(), 2u);
    EXPECT_NE(std::find(got.begin(), got.end(), &a), got.end());
    EXPECT_NE(std::find(got.begin(), got.end(), &b), got.end());
}

// Filtered subscribers, indexed by their first condition: each case is a
// notification of "posts" and the keys it reaches.
struct filtered_case {
    const char* json;
    std::vector<int> expected;
};

class SubscriptionIndexFilters : public ::testing::TestWithParam<filtered_case> {};

const char* const filters[] = {
    "posts[forum_id=7]",                // 1
    "posts[forum_id=8]",                // 2
    "posts[pinned=true,forum_id=7]",    // 3 (first field: forum_id)
    R"(posts[author.id="ana"])",        // 4
    R"(posts[forum_id="7"])",           // 5: a string, not the number
};

index_t filtered_index() {
    index_t idx;
    for (int k = 1; k <= 5; ++k) idx.add(*parse_topic(filters[k - 1]), k);
    idx.add("forums", "", 9);  // another collection: never reached
    return idx;
}

TEST_P(SubscriptionIndexFilters, ReachesExactlyTheMatchingFilters) {
    const auto idx = filtered_index();
    auto got = match(idx, "posts", "12", GetParam().json);
    got.erase(std::unique(got.begin(), got.end()), got.end());
    EXPECT_EQ(got, GetParam().expected) << GetParam().json;
}

INSTANTIATE_TEST_SUITE_P(
    Rows, SubscriptionIndexFilters,
    ::testing::Values(
        filtered_case{R"({"data":{"forum_id":7,"pinned":false}})", {1, 4}},
        filtered_case{R"({"data":{"forum_id":7,"pinned":true}})", {1, 3, 4}},
        filtered_case{R"({"data":{"forum_id":7.0}})", {1, 3, 4}},
        filtered_case{R"({"data":{"forum_id":"7"}})", {4, 5}},
        // Moved from forum 7 to 8: both forums' subscribers hear of it.
        filtered_case{R"({"data":{"forum_id":8},"old":{"forum_id":7}})", {1, 2, 3, 4}},
        // Deleted with old: its forum only.
        filtered_case{R"({"old":{"forum_id":8,"author":{"id":"bo"}}})", {2}},
        // Neither data nor old, data not an object, the field absent: over-delivery.
        filtered_case{R"({"seq":3})", {1, 2, 3, 4, 5}},
        filtered_case{R"({"data":[7]})", {1, 2, 3, 4, 5}},
        filtered_case{R"({"data":{"title":"x"}})", {1, 2, 3, 4, 5}},
        filtered_case{R"({"data":{"forum_id":9,"author":{"id":"ana"}}})", {4}},
        filtered_case{R"({"data":{"forum_id":9,"author":"ana"}})", {4}},
        filtered_case{R"({"data":{"forum_id":9,"author":{"id":"bo"}}})", {}}),
    // Stable test names: the case's index.
    [](const ::testing::TestParamInfo<filtered_case>& info) { return "case" + std::to_string(info.index); });

TEST(SubscriptionIndex, AKeyThatTookTheNotificationIsNotEvaluatedAgain) {
    // One subscriber with 1,000 filters on fields the notification lacks:
    // all match, but once it took the notification the rest are skipped.
    index_t idx;
    std::vector<notifier::core::topic> topics;
    for (int i = 0; i < 1000; ++i) {
        topics.push_back(*parse_topic("posts[f" + std::to_string(i) + "=1]"));
        idx.add(topics.back(), 1);
    }
    idx.add(*parse_topic("posts[f0=1]"), 2);
    lazy_rows rows(R"({"data":{"title":"x"}})");
    std::vector<int> got;
    int asked = 0;
    idx.match("posts", "1", rows, [&](int k) { got.push_back(k); },
              [&](int k) {
                  ++asked;
                  return std::find(got.begin(), got.end(), k) != got.end();
              });
    std::sort(got.begin(), got.end());
    EXPECT_EQ(got, (std::vector<int>{1, 2}));
    EXPECT_EQ(asked, 1001);  // asked for every entry; each key reported once
}

TEST(SubscriptionIndex, FilteredSubscribersLeaveByTheirFilter) {
    auto idx = filtered_index();
    // The same text parsed again is another filter object: not removed.
    idx.remove(*parse_topic(filters[0]), 1);
    EXPECT_EQ(match(idx, "posts", "1", R"({"data":{"forum_id":7}})"), (std::vector<int>{1, 3, 4}));
    index_t fresh;
    std::vector<notifier::core::topic> topics;
    for (int k = 1; k <= 5; ++k) {
        topics.push_back(*parse_topic(filters[k - 1]));
        fresh.add(topics.back(), k);
        fresh.add(topics.back(), k + 10);  // two subscribers of one filter
    }
    EXPECT_EQ(match(fresh, "posts", "1", R"({"data":{"forum_id":8}})"), (std::vector<int>{2, 4, 12, 14}));
    for (int k = 1; k <= 5; ++k) fresh.remove(topics[k - 1], k);
    EXPECT_EQ(match(fresh, "posts", "1", R"({"data":{"forum_id":8}})"), (std::vector<int>{12, 14}));
    for (int k = 1; k <= 5; ++k) fresh.remove(topics[k - 1], k + 10);
    EXPECT_TRUE(fresh.empty());
}

}  // namespace
