#include "core/mpsc_inbox.hpp"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

using notifier::core::mpsc_inbox;

TEST(MpscInbox, SingleThreadKeepsOrderAndBatches) {
    mpsc_inbox<std::string> q;
    std::vector<std::string> out;
    EXPECT_EQ(q.drain(out, 100), 0u);
    q.push("a");
    q.push_batch({"b", "c", "d"});
    q.push("e");
    EXPECT_EQ(q.size(), 5u);
    EXPECT_EQ(q.drain(out, 100), 5u);
    EXPECT_EQ(out, (std::vector<std::string>{"a", "b", "c", "d", "e"}));
    EXPECT_EQ(q.size(), 0u);
    out.clear();
    q.push("f");
    EXPECT_EQ(q.drain(out, 100), 1u);
    EXPECT_EQ(out, std::vector<std::string>{"f"});
}

TEST(MpscInbox, DrainStopsAtTheLimitWithoutSplittingABatch) {
    mpsc_inbox<int> q;
    q.push(1);
    q.push_batch({2, 3, 4});
    q.push(5);
    std::vector<int> out;
    EXPECT_EQ(q.drain(out, 2), 4u);  // 1, then the whole batch
    EXPECT_EQ(out, (std::vector<int>{1, 2, 3, 4}));
    EXPECT_EQ(q.size(), 1u);
    EXPECT_EQ(q.drain(out, 10), 1u);
    EXPECT_EQ(out.back(), 5);
}

TEST(MpscInbox, EmptyBatchIsIgnored) {
    mpsc_inbox<int> q;
    q.push_batch({});
    EXPECT_EQ(q.size(), 0u);
    std::vector<int> out;
    EXPECT_EQ(q.drain(out, 10), 0u);
}

TEST(MpscInbox, DestructorFreesWhatWasNotDrained) {
    auto owned = std::make_shared<int>(7);
    {
        mpsc_inbox<std::shared_ptr<int>> q;
        q.push(std::shared_ptr<int>(owned));
        q.push_batch({owned, owned});
        EXPECT_EQ(owned.use_count(), 4);
    }
    EXPECT_EQ(owned.use_count(), 1);
}

// Several producers, one consumer draining concurrently: every item arrives
// once, each producer's items in its order, each batch contiguous.
TEST(MpscInbox, ConcurrentProducersKeepPerProducerOrder) {
    mpsc_inbox<std::pair<int, int>> q;
    constexpr int producers = 4, per = 20000;
    std::vector<std::thread> ts;
    for (int p = 0; p < producers; ++p)
        ts.emplace_back([&q, p] {
            for (int i = 0; i < per;) {
                if (i % 10 == 0 && i + 3 <= per) {
                    q.push_batch({{p, i}, {p, i + 1}, {p, i + 2}});
                    i += 3;
                } else {
                    q.push({p, i++});
                }
            }
        });
    std::vector<int> next(producers, 0);
    std::vector<std::pair<int, int>> out;
    std::size_t total = 0;
    while (total < std::size_t(producers) * per) {
        out.clear();
        total += q.drain(out, 1000);
        for (auto [p, i] : out) ASSERT_EQ(i, next[p]++) << "producer " << p;
        if (out.empty()) std::this_thread::yield();
    }
    for (auto& t : ts) t.join();
    EXPECT_EQ(q.size(), 0u);
    for (int p = 0; p < producers; ++p) EXPECT_EQ(next[p], per);
}
