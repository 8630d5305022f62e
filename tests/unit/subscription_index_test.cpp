// SPDX-License-Identifier: MIT
// Who receives a notification: "*", collection and (collection, id) subscribers.

#include "core/subscription_index.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace {

using index_t = notifier::core::subscription_index<int>;

std::vector<int> match(const index_t& idx, std::string_view collection, std::string_view id) {
    std::vector<int> keys;
    idx.match(collection, id, [&](int k) { keys.push_back(k); });
    std::sort(keys.begin(), keys.end());
    return keys;
}

using keys = std::vector<int>;

TEST(SubscriptionIndex, EmptyMatchesNothing) {
    index_t idx;
    EXPECT_TRUE(idx.empty());
    EXPECT_EQ(idx.collections(), 0u);
    EXPECT_EQ(match(idx, "posts", "7"), keys{});
    EXPECT_EQ(match(idx, "posts", ""), keys{});
}

TEST(SubscriptionIndex, StarGetsEverything) {
    index_t idx;
    idx.add("*", "", 1);
    EXPECT_FALSE(idx.empty());
    EXPECT_EQ(idx.collections(), 0u);  // "*" is not a collection
    EXPECT_EQ(match(idx, "posts", ""), keys{1});
    EXPECT_EQ(match(idx, "posts", "7"), keys{1});
    EXPECT_EQ(match(idx, "forums", "x/y"), keys{1});
}

TEST(SubscriptionIndex, CollectionSubscribersGetTheWholeCollection) {
    index_t idx;
    idx.add("posts", "", 1);
    idx.add("posts", "", 2);
    idx.add("forums", "", 3);
    EXPECT_EQ(idx.collections(), 2u);
    EXPECT_EQ(match(idx, "posts", ""), (keys{1, 2}));
    EXPECT_EQ(match(idx, "posts", "7"), (keys{1, 2}));
    EXPECT_EQ(match(idx, "forums", "1"), keys{3});
    EXPECT_EQ(match(idx, "users", "1"), keys{});
    // Names are exact: no prefix matching, case sensitive.
    EXPECT_EQ(match(idx, "post", ""), keys{});
    EXPECT_EQ(match(idx, "Posts", ""), keys{});
    EXPECT_EQ(match(idx, "posts2", ""), keys{});
}

TEST(SubscriptionIndex, RecordSubscribersOnlyGetTheirId) {
    index_t idx;
    idx.add("posts", "7", 1);
    idx.add("posts", "8", 2);
    idx.add("posts", "7", 3);
    EXPECT_EQ(idx.collections(), 1u);
    EXPECT_EQ(match(idx, "posts", "7"), (keys{1, 3}));
    EXPECT_EQ(match(idx, "posts", "8"), keys{2});
    EXPECT_EQ(match(idx, "posts", "9"), keys{});
    EXPECT_EQ(match(idx, "posts", "77"), keys{});
    EXPECT_EQ(match(idx, "forums", "7"), keys{});
}

TEST(SubscriptionIndex, MatchWithoutIdSkipsRecordSubscribers) {
    index_t idx;
    idx.add("posts", "7", 1);
    idx.add("posts", "", 2);
    int calls = 0;
    idx.match("posts", "", [&](int k) {
        ++calls;
        EXPECT_NE(k, 1);
    });
    EXPECT_EQ(calls, 1);
}

TEST(SubscriptionIndex, EveryLevelReportedOnce) {
    index_t idx;
    idx.add("*", "", 1);
    idx.add("posts", "", 1);
    idx.add("posts", "7", 1);
    idx.add("posts", "7", 2);
    // One call per topic the key is subscribed to: callers deduplicate.
    EXPECT_EQ(match(idx, "posts", "7"), (keys{1, 1, 1, 2}));
    EXPECT_EQ(match(idx, "posts", "8"), (keys{1, 1}));
    EXPECT_EQ(match(idx, "forums", "7"), keys{1});
}

TEST(SubscriptionIndex, AddingTwiceIsIdempotent) {
    index_t idx;
    idx.add("*", "", 1);
    idx.add("*", "", 1);
    idx.add("posts", "", 2);
    idx.add("posts", "", 2);
    idx.add("posts", "7", 3);
    idx.add("posts", "7", 3);
    EXPECT_EQ(match(idx, "posts", "7"), (keys{1, 2, 3}));
    // One remove undoes it.
    idx.remove("*", "", 1);
    idx.remove("posts", "", 2);
    idx.remove("posts", "7", 3);
    EXPECT_EQ(match(idx, "posts", "7"), keys{});
    EXPECT_TRUE(idx.empty());
}

TEST(SubscriptionIndex, Remove) {
    index_t idx;
    idx.add("*", "", 1);
    idx.add("posts", "", 2);
    idx.add("posts", "", 3);
    idx.add("posts", "7", 4);
    idx.add("posts", "7", 5);

    idx.remove("posts", "", 2);
    EXPECT_EQ(match(idx, "posts", "7"), (keys{1, 3, 4, 5}));
    idx.remove("posts", "7", 4);
    EXPECT_EQ(match(idx, "posts", "7"), (keys{1, 3, 5}));
    idx.remove("*", "", 1);
    EXPECT_EQ(match(idx, "posts", "7"), (keys{3, 5}));
    EXPECT_EQ(match(idx, "forums", ""), keys{});
}

TEST(SubscriptionIndex, RemovingUnknownEntriesIsHarmless) {
    index_t idx;
    idx.add("posts", "7", 1);
    idx.remove("*", "", 1);
    idx.remove("forums", "", 1);
    idx.remove("posts", "", 1);
    idx.remove("posts", "8", 1);
    idx.remove("posts", "7", 2);
    EXPECT_EQ(match(idx, "posts", "7"), keys{1});
    EXPECT_EQ(idx.collections(), 1u);
}

TEST(SubscriptionIndex, RemoveOnlyAffectsTheGivenTopic) {
    index_t idx;
    idx.add("posts", "", 1);
    idx.add("posts", "7", 1);
    idx.remove("posts", "7", 1);
    EXPECT_EQ(match(idx, "posts", "7"), keys{1});
    EXPECT_EQ(idx.collections(), 1u);
    idx.add("posts", "7", 1);
    idx.remove("posts", "", 1);
    EXPECT_EQ(match(idx, "posts", "7"), keys{1});
    EXPECT_EQ(match(idx, "posts", "8"), keys{});
    EXPECT_EQ(idx.collections(), 1u);
}

TEST(SubscriptionIndex, CollectionsShrinkToZero) {
    index_t idx;
    idx.add("*", "", 9);
    idx.add("posts", "", 1);
    idx.add("posts", "7", 2);
    idx.add("posts", "8", 2);
    idx.add("forums", "3", 1);
    EXPECT_EQ(idx.collections(), 2u);

    idx.remove("posts", "", 1);
    EXPECT_EQ(idx.collections(), 2u);  // ids still subscribed
    idx.remove("posts", "7", 2);
    EXPECT_EQ(idx.collections(), 2u);
    idx.remove("posts", "8", 2);
    EXPECT_EQ(idx.collections(), 1u);
    idx.remove("forums", "3", 1);
    EXPECT_EQ(idx.collections(), 0u);
    EXPECT_FALSE(idx.empty());  // "*" is left
    idx.remove("*", "", 9);
    EXPECT_TRUE(idx.empty());
    EXPECT_EQ(match(idx, "posts", "7"), keys{});
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
    idx.match("posts", "1", [&](const void* k) { got.push_back(k); });
    ASSERT_EQ(got.size(), 2u);
    EXPECT_NE(std::find(got.begin(), got.end(), &a), got.end());
    EXPECT_NE(std::find(got.begin(), got.end(), &b), got.end());
}

}  // namespace
