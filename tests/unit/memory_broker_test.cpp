// SPDX-License-Identifier: MIT
// The in-memory broker: the generic broker conformance suite, plus what only
// the single-node broker promises.

#include <notifier/broker/memory_broker.hpp>
#include <notifier/errors.hpp>

#include "../support/broker_conformance.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <set>

namespace notifier::testing {

INSTANTIATE_TEST_SUITE_P(Memory, BrokerConformance,
                         ::testing::Values(broker_factory{
                             "memory", [](std::size_t n) { return std::make_unique<memory_broker>(n); }}),
                         broker_factory_name);

}  // namespace notifier::testing

namespace {

using notifier::history_page;
using notifier::memory_broker;
using notifier::notification;
using notifier::publication_ptr;
using notifier::testing::recording_handler;

std::vector<notification> batch(std::size_t n) {
    std::vector<notification> v;
    for (std::size_t i = 0; i < n; ++i) v.push_back({"c", "a", std::to_string(i), std::nullopt});
    return v;
}

std::uint64_t publish(memory_broker& b, std::vector<notification> v, std::error_code* ec_out = nullptr) {
    std::uint64_t first = 0;
    int calls = 0;
    std::error_code ec;
    b.publish(std::move(v), [&](std::error_code e, std::uint64_t f) {
        ++calls;
        ec = e;
        first = f;
    });
    EXPECT_EQ(calls, 1) << "the memory broker completes before publish() returns";
    if (ec_out) *ec_out = ec;
    else EXPECT_FALSE(ec) << ec.message();
    return first;
}

history_page read(memory_broker& b, std::string_view epoch, std::uint64_t after, std::size_t max) {
    history_page out;
    int calls = 0;
    b.read(epoch, after, max, [&](history_page p) {
        ++calls;
        out = std::move(p);
    });
    EXPECT_EQ(calls, 1) << "the memory broker completes before read() returns";
    return out;
}

TEST(MemoryBroker, StartsEmptyAtSeqZero) {
    memory_broker b(10);
    EXPECT_EQ(b.last_seq(), 0u);
    const auto page = read(b, b.epoch(), 0, 10);
    EXPECT_EQ(page.result, history_page::status::ok);
    EXPECT_TRUE(page.pubs.empty());
    EXPECT_EQ(page.last_seq, 0u);
}

TEST(MemoryBroker, EpochIsSixteenHexDigits) {
    memory_broker b(10);
    const auto e = b.epoch();
    ASSERT_EQ(e.size(), 16u);
    for (char c : e) EXPECT_TRUE((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) << e;
}

TEST(MemoryBroker, EveryInstanceStartsANewEpoch) {
    std::set<std::string> epochs;
    for (int i = 0; i < 20; ++i) epochs.insert(memory_broker(1).epoch());
    // 64 random bits each: a collision among 20 would be a broken generator.
    EXPECT_EQ(epochs.size(), 20u);
}

TEST(MemoryBroker, PublishBeforeStartFails) {
    memory_broker b(10);
    std::error_code ec;
    publish(b, batch(2), &ec);
    EXPECT_EQ(ec, notifier::errc::stopped);
    EXPECT_EQ(b.last_seq(), 0u);
}

TEST(MemoryBroker, PublishAfterStopReportsStopped) {
    memory_broker b(10);
    recording_handler h;
    b.start(h);
    EXPECT_EQ(publish(b, batch(1)), 1u);
    b.stop();
    std::error_code ec;
    publish(b, batch(1), &ec);
    EXPECT_EQ(ec, notifier::errc::stopped);
    EXPECT_EQ(h.all.size(), 1u);
}

TEST(MemoryBroker, NullDoneIsAllowed) {
    memory_broker b(10);
    recording_handler h;
    b.start(h);
    b.publish(batch(2), nullptr);
    EXPECT_EQ(b.last_seq(), 2u);
    EXPECT_EQ(h.all.size(), 2u);
    b.stop();
    b.publish(batch(2), nullptr);
    EXPECT_EQ(b.last_seq(), 2u);
}

TEST(MemoryBroker, OneHandlerCallPerBatch) {
    memory_broker b(10);
    recording_handler h;
    b.start(h);
    publish(b, batch(3));
    publish(b, batch(1));
    ASSERT_EQ(h.calls.size(), 2u);
    EXPECT_EQ(h.calls[0].size(), 3u);
    EXPECT_EQ(h.calls[1].size(), 1u);
}

TEST(MemoryBroker, HistoryAndHandlerShareOneInstance) {
    memory_broker b(10);
    recording_handler h;
    b.start(h);
    publish(b, batch(3));
    const auto page = read(b, b.epoch(), 0, 10);
    ASSERT_EQ(page.pubs.size(), 3u);
    for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(page.pubs[i].get(), h.all[i].get()) << i;
}

TEST(MemoryBroker, HistorySizeZeroKeepsTheNewest) {
    memory_broker b(0);
    recording_handler h;
    b.start(h);
    publish(b, batch(3));
    EXPECT_EQ(read(b, b.epoch(), 2, 10).pubs.size(), 1u);
    EXPECT_EQ(read(b, b.epoch(), 1, 10).result, history_page::status::gone);
}

/// Publishes once more from inside on_publications, as a hub reacting to a
/// publication might.
class reentrant_handler final : public notifier::broker_handler {
public:
    explicit reentrant_handler(memory_broker& b) : broker_(b) {}
    void on_publications(std::span<const publication_ptr> pubs) override {
        std::vector<std::uint64_t> before;
        for (const auto& p : pubs) before.push_back(p->seq);
        if (!nested_done_) {
            nested_done_ = true;
            const std::vector<notification> inner{{"inner", "a", std::nullopt, std::nullopt}};
            broker_.publish(inner,
                            [this](std::error_code ec, std::uint64_t first) {
                                inner_ec = ec;
                                inner_first = first;
                            });
        }
        // The span handed to this call is intact after the nested publish.
        std::vector<std::uint64_t> after;
        for (const auto& p : pubs) after.push_back(p->seq);
        EXPECT_EQ(before, after);
        calls.push_back(after);
    }
    void on_reset(std::string_view, std::uint64_t) override {}

    std::vector<std::vector<std::uint64_t>> calls;
    std::error_code inner_ec;
    std::uint64_t inner_first = 0;

private:
    memory_broker& broker_;
    bool nested_done_ = false;
};

TEST(MemoryBroker, ReentrantPublishFromHandler) {
    memory_broker b(10);
    reentrant_handler h(b);
    b.start(h);
    EXPECT_EQ(publish(b, batch(2)), 1u);
    EXPECT_FALSE(h.inner_ec);
    EXPECT_EQ(h.inner_first, 3u);
    EXPECT_EQ(b.last_seq(), 3u);
    // The nested call completes first; each call saw its own publications.
    ASSERT_EQ(h.calls.size(), 2u);
    EXPECT_EQ(h.calls[0], std::vector<std::uint64_t>{3});
    EXPECT_EQ(h.calls[1], (std::vector<std::uint64_t>{1, 2}));
    const auto page = read(b, b.epoch(), 0, 10);
    ASSERT_EQ(page.pubs.size(), 3u);
    EXPECT_EQ(page.pubs[2]->collection, "inner");
}

}  // namespace
