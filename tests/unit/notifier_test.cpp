// SPDX-License-Identifier: MIT
// The front door: notifier::notify(), transactions, and handing notifications
// to a hub (started and stopped in-process; no client connects).

#include <notifier/broker/memory_broker.hpp>
#include <notifier/notifier.hpp>

#include "../support/forwarding_broker.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <limits>
#include <memory>
#include <thread>
#include <vector>

namespace {

using notifier::errc;
using notifier::notification;

/// A sink that records what it is given.
struct recorder {
    std::vector<notification> got;
    notifier::notifier::sink sink() {
        return [this](notification&& n) { got.push_back(std::move(n)); };
    }
};

notification note(std::string c, std::string a, std::optional<std::string> id = {},
                  std::optional<std::string> data = {}) {
    return {std::move(c), std::move(a), std::move(id), std::move(data)};
}

// notify() and a transaction's commit both answer `ec` (a transaction
// collects without asking the hub, so its notify() succeeds).
void expect_refused(const notifier::notifier& n, errc ec) {
    EXPECT_EQ(n.notify("a", "b"), ec);
    notifier::transaction tx(n);
    EXPECT_FALSE(tx.notify("a", "b"));
    EXPECT_EQ(tx.commit(), ec);
}

notifier::options test_options() {
    notifier::options o;
    o.listen_port = 0;
    return o;
}

// --- notifier with a sink ---

TEST(Notifier, SinkGetsValidatedNotificationsInOrder) {
    recorder r;
    const notifier::notifier n(r.sink());
    EXPECT_FALSE(n.notify("forums", "create", "7", R"({"name":"General"})"));
    EXPECT_FALSE(n.notify("forums", "refresh"));
    EXPECT_FALSE(n.notify("posts", "delete", "a/b"));
    EXPECT_FALSE(n.notify("posts", "update", std::nullopt, "[1,2]"));
    ASSERT_EQ(r.got.size(), 4u);
    EXPECT_EQ(r.got[0], note("forums", "create", "7", R"({"name":"General"})"));
    EXPECT_EQ(r.got[1], note("forums", "refresh"));
    EXPECT_EQ(r.got[2], note("posts", "delete", "a/b"));
    EXPECT_EQ(r.got[3], note("posts", "update", std::nullopt, "[1,2]"));
}

TEST(Notifier, InvalidNotificationsAreRejectedAndNotPassedOn) {
    recorder r;
    const notifier::notifier n(r.sink());
    EXPECT_EQ(n.notify("", "create"), errc::invalid_collection);
    EXPECT_EQ(n.notify("bad name", "create"), errc::invalid_collection);
    EXPECT_EQ(n.notify(std::string(129, 'c'), "create"), errc::invalid_collection);
    EXPECT_EQ(n.notify("forums", ""), errc::invalid_action);
    EXPECT_EQ(n.notify("forums", std::string(65, 'a')), errc::invalid_action);
    EXPECT_EQ(n.notify("forums", "create", ""), errc::invalid_id);
    EXPECT_EQ(n.notify("forums", "create", std::string(257, 'i')), errc::invalid_id);
    EXPECT_EQ(n.notify("forums", "create", "\xC3"), errc::invalid_id);
    EXPECT_TRUE(r.got.empty());
    // The limits themselves are accepted.
    EXPECT_FALSE(n.notify(std::string(128, 'c'), std::string(64, 'a'), std::string(256, 'i')));
    EXPECT_EQ(r.got.size(), 1u);
}

TEST(Notifier, DataMustBeOneJsonValue) {
    recorder r;
    const notifier::notifier n(r.sink());
    for (const char* bad : {"", "{", "not json", "{\"a\":1", "1 2", "{'a':1}", "[1,]", "\"\xFF\""}) {
        EXPECT_EQ(n.notify("forums", "update", "1", bad), errc::invalid_data) << bad;
    }
    EXPECT_TRUE(r.got.empty());
    for (const char* good : {"0", "null", "\"s\"", " {\"a\": [1, 2.5, true]} ", "[]"}) {
        EXPECT_FALSE(n.notify("forums", "update", "1", good)) << good;
    }
    ASSERT_EQ(r.got.size(), 5u);
    // Data is passed on verbatim.
    EXPECT_EQ(r.got[3].data, " {\"a\": [1, 2.5, true]} ");
}

TEST(Notifier, IntegerIdOverload) {
    recorder r;
    const notifier::notifier n(r.sink());
    EXPECT_FALSE(n.notify("posts", "update", std::int64_t{42}));
    EXPECT_FALSE(n.notify("posts", "update", std::int64_t{0}, R"({"x":1})"));
    EXPECT_FALSE(n.notify("posts", "update", std::int64_t{-7}));
    EXPECT_FALSE(n.notify("posts", "update", std::numeric_limits<std::int64_t>::min()));
    EXPECT_FALSE(n.notify("posts", "update", std::numeric_limits<std::int64_t>::max()));
    ASSERT_EQ(r.got.size(), 5u);
    EXPECT_EQ(r.got[0].id, "42");
    EXPECT_EQ(r.got[1].id, "0");
    EXPECT_EQ(r.got[1].data, R"({"x":1})");
    EXPECT_EQ(r.got[2].id, "-7");
    EXPECT_EQ(r.got[3].id, "-9223372036854775808");
    EXPECT_EQ(r.got[4].id, "9223372036854775807");
    // Still validated.
    EXPECT_EQ(n.notify("bad name", "update", std::int64_t{1}), errc::invalid_collection);
    EXPECT_EQ(n.notify("posts", "update", std::int64_t{1}, "{"), errc::invalid_data);
    EXPECT_EQ(r.got.size(), 5u);
}

TEST(Notifier, NotificationOverload) {
    recorder r;
    const notifier::notifier n(r.sink());
    EXPECT_FALSE(n.notify(note("a", "b", "c", "1")));
    EXPECT_EQ(n.notify(note("a", "b", "", "1")), errc::invalid_id);
    ASSERT_EQ(r.got.size(), 1u);
    EXPECT_EQ(r.got[0], note("a", "b", "c", "1"));
}

TEST(Notifier, BatchIsValidatedAsAWhole) {
    recorder r;
    const notifier::notifier n(r.sink());
    EXPECT_EQ(n.notify_batch({note("a", "x"), note("b", "x"), note("c", "x", std::nullopt, "{")}), errc::invalid_data);
    EXPECT_TRUE(r.got.empty());
    EXPECT_FALSE(n.notify_batch({note("a", "x"), note("b", "x", "1"), note("c", "x")}));
    ASSERT_EQ(r.got.size(), 3u);
    EXPECT_EQ(r.got[0].collection, "a");
    EXPECT_EQ(r.got[1].collection, "b");
    EXPECT_EQ(r.got[2].collection, "c");
}

TEST(Notifier, CopiesShareTheSink) {
    recorder r;
    const notifier::notifier n(r.sink());
    const notifier::notifier copy = n;
    EXPECT_FALSE(copy.notify("a", "b"));
    EXPECT_FALSE(n.notify("c", "d"));
    ASSERT_EQ(r.got.size(), 2u);
    EXPECT_EQ(r.got[0].collection, "a");
    EXPECT_EQ(r.got[1].collection, "c");
}

// --- transaction ---

// A transaction on a notifier whose sink records what it is given.
class Transaction : public ::testing::Test {
protected:
    recorder r;
    const notifier::notifier n{r.sink()};
    notifier::transaction tx{n};
};

TEST_F(Transaction, CommitEmitsEverythingInOrder) {
    EXPECT_FALSE(tx.notify("orders", "create", "1", R"({"total":10})"));
    EXPECT_FALSE(tx.notify("orders", "create", std::int64_t{2}));
    EXPECT_FALSE(tx.notify("stock", "update"));
    EXPECT_EQ(tx.size(), 3u);
    EXPECT_TRUE(r.got.empty()) << "nothing leaves before commit";
    EXPECT_FALSE(tx.commit());
    ASSERT_EQ(r.got.size(), 3u);
    EXPECT_EQ(r.got[0], note("orders", "create", "1", R"({"total":10})"));
    EXPECT_EQ(r.got[1], note("orders", "create", "2"));
    EXPECT_EQ(r.got[2], note("stock", "update"));
}

TEST_F(Transaction, InvalidNotifyIsRejectedAndNotRecorded) {
    EXPECT_FALSE(tx.notify("a", "b"));
    EXPECT_EQ(tx.notify("bad name", "b"), errc::invalid_collection);
    EXPECT_EQ(tx.notify("a", "bad action"), errc::invalid_action);
    EXPECT_EQ(tx.notify("a", "b", ""), errc::invalid_id);
    EXPECT_EQ(tx.notify("a", "b", "1", "{"), errc::invalid_data);
    EXPECT_EQ(tx.notify("a", "b", std::int64_t{1}, "nope"), errc::invalid_data);
    EXPECT_EQ(tx.size(), 1u);
    EXPECT_FALSE(tx.commit());
    ASSERT_EQ(r.got.size(), 1u);
    EXPECT_EQ(r.got[0], note("a", "b"));
}

TEST_F(Transaction, AWholeNotificationCarriesOld) {
    auto moved = note("posts", "update", "1", R"({"forum_id":8})");
    moved.old = R"({"forum_id":7})";
    EXPECT_FALSE(tx.notify(moved));
    auto bad = note("posts", "update", "2");
    bad.old = "[7]";
    EXPECT_EQ(tx.notify(bad), errc::invalid_old);
    EXPECT_FALSE(tx.commit());
    ASSERT_EQ(r.got.size(), 1u);
    EXPECT_EQ(r.got[0], moved);
    EXPECT_EQ(r.got[0].old, R"({"forum_id":7})");
}

TEST_F(Transaction, RollbackEmitsNothing) {
    EXPECT_FALSE(tx.notify("a", "b"));
    EXPECT_FALSE(tx.notify("c", "d"));
    tx.rollback();
    EXPECT_EQ(tx.size(), 0u);
    EXPECT_EQ(tx.commit(), errc::already_finished);
    EXPECT_EQ(tx.notify("e", "f"), errc::already_finished);
    EXPECT_TRUE(r.got.empty());
}

TEST_F(Transaction, DestructionWithoutCommitEmitsNothing) {
    {
        notifier::transaction dropped(n);
        EXPECT_FALSE(dropped.notify("a", "b"));
        EXPECT_FALSE(dropped.notify("c", "d", std::int64_t{1}));
    }
    EXPECT_TRUE(r.got.empty());
}

TEST_F(Transaction, CommitTwiceIsAlreadyFinished) {
    EXPECT_FALSE(tx.notify("a", "b"));
    EXPECT_FALSE(tx.commit());
    EXPECT_EQ(tx.commit(), errc::already_finished);
    EXPECT_EQ(tx.notify("c", "d"), errc::already_finished);
    EXPECT_EQ(r.got.size(), 1u);
}

TEST_F(Transaction, EmptyCommit) {
    EXPECT_FALSE(tx.commit());
    EXPECT_TRUE(r.got.empty());
    EXPECT_EQ(tx.commit(), errc::already_finished);
}

// --- with a real hub ---

/// Forwards to a memory_broker and records what the hub asks of it. Read its
/// log only once the hub's loop has ended (hub::stop() joins the loop thread).
struct broker_log {
    std::vector<std::vector<notification>> batches;
    std::atomic<bool> destroyed{false};
};

class tracking_broker final : public notifier::test::forwarding_broker {
public:
    explicit tracking_broker(std::shared_ptr<broker_log> log) : log_(std::move(log)) {}
    ~tracking_broker() override { log_->destroyed = true; }

    void publish(std::span<const notification> batch, publish_handler done) override {
        log_->batches.emplace_back(batch.begin(), batch.end());
        forwarding_broker::publish(batch, std::move(done));
    }

private:
    std::shared_ptr<broker_log> log_;
};

TEST(NotifierHub, PublishedCountAfterStop) {
    notifier::hub h(test_options());
    h.start();
    EXPECT_NE(h.port(), 0);
    const notifier::notifier n(h);
    constexpr int count = 200;
    for (int i = 0; i < count; ++i) ASSERT_FALSE(n.notify("posts", "update", std::int64_t{i})) << i;
    h.stop();
    // Everything queued before stop() was dispatched before the loop ended.
    EXPECT_EQ(h.stats().published, std::uint64_t(count));
    EXPECT_EQ(h.stats().last_seq, std::uint64_t(count));
    EXPECT_EQ(h.stats().sessions, 0u);
}

TEST(NotifierHub, PublishedCountWhileRunning) {
    notifier::hub h(test_options());
    h.start();
    const notifier::notifier n(h);
    constexpr int count = 50;
    for (int i = 0; i < count; ++i) ASSERT_FALSE(n.notify("posts", "update")) << i;
    // Poll the counters (bounded), yielding to the loop thread between polls.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (h.stats().published < std::uint64_t(count) && std::chrono::steady_clock::now() < deadline)
        std::this_thread::yield();
    EXPECT_EQ(h.stats().published, std::uint64_t(count));
    EXPECT_EQ(h.stats().last_seq, std::uint64_t(count));
    h.stop();
}

TEST(NotifierHub, NotifyAfterStopIsStopped) {
    notifier::hub h(test_options());
    h.start();
    const notifier::notifier n(h);
    EXPECT_FALSE(n.notify("a", "b"));
    h.stop();
    EXPECT_EQ(n.notify_batch({note("a", "b"), note("c", "d")}), errc::stopped);
    expect_refused(n, errc::stopped);
    EXPECT_EQ(h.stats().published, 1u);
}

TEST(NotifierHub, InvalidInputIsRejectedBeforeTheHub) {
    notifier::hub h(test_options());
    h.start();
    const notifier::notifier n(h);
    EXPECT_EQ(n.notify("bad name", "b"), errc::invalid_collection);
    EXPECT_EQ(n.notify("a", "b", std::nullopt, "{"), errc::invalid_data);
    EXPECT_FALSE(n.notify("a", "b"));
    h.stop();
    EXPECT_EQ(h.stats().published, 1u);
}

TEST(NotifierHub, SinkReplacesTheHub) {
    notifier::hub h(test_options());
    h.start();
    recorder r;
    const notifier::notifier n(h, r.sink());
    EXPECT_FALSE(n.notify("a", "b"));
    h.stop();
    EXPECT_EQ(r.got.size(), 1u);
    EXPECT_EQ(h.stats().published, 0u);
}

TEST(NotifierHub, TransactionCommitIsOneBatchWithConsecutiveSeqs) {
    auto log = std::make_shared<broker_log>();
    {
        notifier::hub h(test_options(), [log](boost::asio::io_context&) { return std::make_unique<tracking_broker>(log); });
        h.start();
        const notifier::notifier n(h);
        notifier::transaction tx(n);
        EXPECT_FALSE(tx.notify("orders", "create", "1"));
        EXPECT_FALSE(tx.notify("orders", "create", "2"));
        EXPECT_FALSE(tx.notify("stock", "update", std::nullopt, R"({"left":3})"));
        EXPECT_FALSE(tx.commit());
        h.stop();
        EXPECT_EQ(h.stats().published, 3u);
        EXPECT_EQ(h.stats().last_seq, 3u);
    }
    ASSERT_EQ(log->batches.size(), 1u);
    ASSERT_EQ(log->batches[0].size(), 3u);
    EXPECT_EQ(log->batches[0][0], note("orders", "create", "1"));
    EXPECT_EQ(log->batches[0][1], note("orders", "create", "2"));
    EXPECT_EQ(log->batches[0][2], note("stock", "update", std::nullopt, R"({"left":3})"));
}

TEST(NotifierHub, NotificationsReachTheBrokerInOrder) {
    auto log = std::make_shared<broker_log>();
    notifier::hub h(test_options(), [log](boost::asio::io_context&) { return std::make_unique<tracking_broker>(log); });
    h.start();
    const notifier::notifier n(h);
    constexpr int count = 100;
    for (int i = 0; i < count; ++i) ASSERT_FALSE(n.notify("c", "a", std::int64_t{i}));
    h.stop();
    std::vector<std::string> ids;
    for (const auto& b : log->batches)
        for (const auto& x : b) ids.push_back(x.id.value_or(""));
    ASSERT_EQ(ids.size(), std::size_t(count));
    for (int i = 0; i < count; ++i) EXPECT_EQ(ids[i], std::to_string(i));
}

TEST(NotifierHub, OverloadedWhenTheInboxIsFull) {
    auto opts = test_options();
    opts.max_pending_notifications = 5;
    notifier::hub h(opts);  // not started yet: nothing drains the inbox
    const notifier::notifier n(h);
    for (int i = 0; i < 5; ++i) EXPECT_FALSE(n.notify("a", "b")) << i;
    EXPECT_EQ(n.notify("a", "b"), errc::overloaded);
    EXPECT_EQ(n.notify("a", "b", std::int64_t{1}), errc::overloaded);
    EXPECT_EQ(h.stats().published, 0u);
    // Running the loop drains what was accepted (and nothing else).
    h.start();
    h.stop();
    EXPECT_EQ(h.stats().published, 5u);
}

TEST(NotifierHub, OverloadedCountsWholeBatches) {
    auto opts = test_options();
    opts.max_pending_notifications = 5;
    notifier::hub h(opts);
    const notifier::notifier n(h);
    EXPECT_FALSE(n.notify_batch({note("a", "b"), note("a", "b"), note("a", "b")}));
    // 3 + 3 > 5: refused as a whole...
    EXPECT_EQ(n.notify_batch({note("a", "b"), note("a", "b"), note("a", "b")}), errc::overloaded);
    // ...so 2 more still fit.
    EXPECT_FALSE(n.notify_batch({note("a", "b"), note("a", "b")}));
    expect_refused(n, errc::overloaded);
    h.start();
    h.stop();
    EXPECT_EQ(h.stats().published, 5u);
}

TEST(NotifierHub, StopWithoutStartRefusesNotifications) {
    notifier::hub h(test_options());
    h.stop();
    const notifier::notifier n(h);
    EXPECT_EQ(n.notify("a", "b"), errc::stopped);
}

TEST(NotifierHub, BrokerIsDestroyedWithAStartedHub) {
    auto log = std::make_shared<broker_log>();
    {
        notifier::hub h(test_options(), [log](boost::asio::io_context&) { return std::make_unique<tracking_broker>(log); });
        h.start();
        EXPECT_FALSE(notifier::notifier(h).notify("a", "b"));
        h.stop();
        EXPECT_FALSE(log->destroyed);
    }
    EXPECT_TRUE(log->destroyed);
}

TEST(NotifierHub, BrokerIsDestroyedWithAHubNeverStarted) {
    auto log = std::make_shared<broker_log>();
    {
        notifier::hub h(test_options(), [log](boost::asio::io_context&) { return std::make_unique<tracking_broker>(log); });
        EXPECT_FALSE(notifier::notifier(h).notify("a", "b"));
    }
    EXPECT_TRUE(log->destroyed);
}

}  // namespace

namespace {

TEST(NotifierHub, RacingBatchesDoNotAllFitTheSameFreeRoom) {
    for (int round = 0; round < 100; ++round) {
        auto opts = test_options();
        opts.max_pending_notifications = 3;
        notifier::hub h(opts);  // not started: nothing drains
        const notifier::notifier n(h);
        std::atomic<int> ready{0}, accepted{0};
        std::vector<std::thread> producers;
        for (int t = 0; t < 8; ++t)
            producers.emplace_back([&] {
                ready.fetch_add(1);
                while (ready.load() < 8) {  // start together
                }
                std::vector<notifier::notification> batch(2, notifier::notification{"a", "b", {}, {}});
                if (!n.notify_batch(std::move(batch))) accepted.fetch_add(2);
            });
        for (auto& p : producers) p.join();
        // One batch of two fits under 3; a second would make four.
        ASSERT_EQ(accepted.load(), 2) << "round " << round;
        h.start();
        h.stop();
    }
}

}  // namespace
