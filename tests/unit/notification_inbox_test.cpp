// SPDX-License-Identifier: MIT
#include "core/notification_inbox.hpp"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

using notifier::notification;
using notifier::core::notification_inbox;

namespace {

notification note(std::string c, std::string a, std::optional<std::string> id = std::nullopt,
                  std::optional<std::string> data = std::nullopt) {
    return {std::move(c), std::move(a), std::move(id), std::move(data)};
}

}  // namespace

TEST(NotificationInbox, KeepsOrderAndFieldsAcrossEveryKindOfNode) {
    notification_inbox q(4);
    const std::string big(notification_inbox::inline_capacity, 'x');  // with collection and action: too big
    std::vector<notification> out;
    EXPECT_EQ(q.drain(out, 100), 0u);
    q.push("forums", "create", std::nullopt, std::nullopt);
    q.push("posts", "update", std::string_view("7"), std::string_view(R"({"a":1})"));
    q.push("posts", "delete", std::string_view(""), std::string_view(""));  // present but empty stays present
    q.push("big", "create", std::nullopt, std::string_view(big));
    q.push(note("moved", "create", "9"));
    q.push_batch({note("b", "one"), note("b", "two")});
    EXPECT_EQ(q.size(), 7u);
    EXPECT_EQ(q.drain(out, 100), 7u);
    const std::vector<notification> expected{
        note("forums", "create"),      note("posts", "update", "7", R"({"a":1})"), note("posts", "delete", "", ""),
        note("big", "create", {}, big), note("moved", "create", "9"),             note("b", "one"),
        note("b", "two")};
    EXPECT_EQ(out, expected);
    EXPECT_EQ(q.size(), 0u);
    EXPECT_EQ(q.slot_misses(), 0u);
}

TEST(NotificationInbox, ExactlyFullSlotIsInline) {
    notification_inbox q(2);
    const std::string data(notification_inbox::inline_capacity - 2, 'd');
    q.push("c", "a", std::nullopt, std::string_view(data));
    std::vector<notification> out;
    ASSERT_EQ(q.drain(out, 10), 1u);
    EXPECT_EQ(out[0], note("c", "a", {}, data));
    EXPECT_EQ(q.slot_misses(), 0u);
}

TEST(NotificationInbox, FullSlotsFallBackToTheHeapInOrderAndAreReused) {
    notification_inbox q(2);
    for (int i = 0; i < 5; ++i) q.push("c", "a", std::string_view(std::to_string(i)), std::nullopt);
    EXPECT_EQ(q.slot_misses(), 3u);  // two slots, five pushes
    std::vector<notification> out;
    ASSERT_EQ(q.drain(out, 100), 5u);
    for (int i = 0; i < 5; ++i) EXPECT_EQ(out[std::size_t(i)].id, std::to_string(i));
    // Drained slots are free again, for many laps.
    for (int lap = 0; lap < 10; ++lap) {
        q.push("c", "a", std::nullopt, std::nullopt);
        q.push("c", "b", std::nullopt, std::nullopt);
        out.clear();
        ASSERT_EQ(q.drain(out, 100), 2u);
        EXPECT_EQ(out[1].action, "b");
    }
    EXPECT_EQ(q.slot_misses(), 3u);
}

TEST(NotificationInbox, DrainStopsAtTheLimitWithoutSplittingABatch) {
    notification_inbox q;
    q.push("c", "1", std::nullopt, std::nullopt);
    q.push_batch({note("c", "2"), note("c", "3"), note("c", "4")});
    q.push("c", "5", std::nullopt, std::nullopt);
    std::vector<notification> out;
    EXPECT_EQ(q.drain(out, 2), 4u);  // 1, then the whole batch
    ASSERT_EQ(out.size(), 4u);
    EXPECT_EQ(out[3].action, "4");
    EXPECT_EQ(q.size(), 1u);
    EXPECT_EQ(q.drain(out, 10), 1u);
    EXPECT_EQ(out.back().action, "5");
}

TEST(NotificationInbox, EmptyBatchIsIgnored) {
    notification_inbox q;
    q.push_batch({});
    EXPECT_EQ(q.size(), 0u);
    std::vector<notification> out;
    EXPECT_EQ(q.drain(out, 10), 0u);
}

TEST(NotificationInbox, DestructorReleasesWhatWasNotDrained) {
    // Run under ASan/LSan in the sanitizer build; here: no crash, no hang.
    notification_inbox q(2);
    for (int i = 0; i < 4; ++i) q.push("c", "a", std::nullopt, std::string_view(std::string(300, 'x')));
    q.push("c", "a", std::nullopt, std::nullopt);
    q.push_batch({note("c", "a")});
    EXPECT_EQ(q.size(), 6u);
}

// Several producers, one consumer draining concurrently, few slots so that
// slots, heap nodes and batches interleave: every item arrives exactly once,
// each producer's items in its order, each batch contiguous.
TEST(NotificationInbox, ConcurrentProducersKeepPerProducerOrder) {
    notification_inbox q(8);
    constexpr int producers = 4, per = 50000;
    const std::string big(300, 'b');
    std::vector<std::thread> ts;
    for (int p = 0; p < producers; ++p)
        ts.emplace_back([&q, &big, p] {
            const std::string c = "p" + std::to_string(p);
            for (int i = 0; i < per;) {
                if (i % 10 == 0 && i + 3 <= per) {
                    q.push_batch({note(c, "batch", std::to_string(i)), note(c, "batch", std::to_string(i + 1)),
                                  note(c, "batch", std::to_string(i + 2))});
                    i += 3;
                } else if (i % 7 == 0) {
                    q.push(c, "big", std::string_view(std::to_string(i)), std::string_view(big));
                    ++i;
                } else {
                    const std::string id = std::to_string(i);
                    q.push(c, "small", std::string_view(id), std::string_view(id));
                    ++i;
                }
            }
        });
    std::vector<int> next(producers, 0);
    std::vector<notification> out;
    std::size_t total = 0;
    int batch_left = 0, batch_producer = -1;
    while (total < std::size_t(producers) * per) {
        out.clear();
        total += q.drain(out, 1000);
        for (const auto& n : out) {
            const int p = std::stoi(n.collection.substr(1));
            ASSERT_TRUE(n.id);
            ASSERT_EQ(std::stoi(*n.id), next[std::size_t(p)]++) << "producer " << p;
            if (n.action == "small") ASSERT_EQ(n.data, n.id);
            if (n.action == "big") ASSERT_EQ(n.data, big);
            if (batch_left > 0) {
                ASSERT_EQ(n.action, "batch");
                ASSERT_EQ(p, batch_producer) << "a batch was split";
                --batch_left;
            } else if (n.action == "batch") {
                batch_left = 2;
                batch_producer = p;
            }
        }
        if (out.empty()) std::this_thread::yield();
    }
    for (auto& t : ts) t.join();
    EXPECT_EQ(q.size(), 0u);
    out.clear();
    EXPECT_EQ(q.drain(out, 10), 0u);
    for (int p = 0; p < producers; ++p) EXPECT_EQ(next[std::size_t(p)], per);
    EXPECT_GT(q.slot_misses(), 0u);  // the heap fallback was exercised too
}
