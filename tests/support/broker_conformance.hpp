// SPDX-License-Identifier: MIT
#pragma once
// The contract every notifier::broker must keep (include/notifier/broker/broker.hpp),
// as a value-parameterised GoogleTest suite. A broker's test instantiates it:
//
//   #include "../support/broker_conformance.hpp"
//   INSTANTIATE_TEST_SUITE_P(Memory, BrokerConformance,
//       ::testing::Values(notifier::testing::broker_factory{
//           "memory", [](std::size_t n) { return std::make_unique<notifier::memory_broker>(n); }}),
//       notifier::testing::broker_factory_name);
//
// The suite defines its tests in this header: include it in exactly one
// translation unit of a test executable.
//
// Asynchronous brokers complete their callbacks on an event loop; `pump` runs
// whatever is pending (e.g. io_context::poll() or run_for() for a Redis
// broker) and is called until the awaited callback has run, a bounded number
// of times. It is a no-op for brokers that complete synchronously.

#include <notifier/broker/broker.hpp>
#include <notifier/notification.hpp>
#include <notifier/publication.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <system_error>
#include <vector>

namespace notifier::testing {

struct broker_factory {
    std::string name;  ///< test name suffix: [A-Za-z0-9_]
    std::function<std::unique_ptr<broker>(std::size_t history_size)> make;
    /// Runs pending callbacks of the brokers made by `make`.
    std::function<void()> pump = [] {};
    /// How many times `pump` may be called while waiting for one callback.
    int max_pump_rounds = 10'000;
};

inline void PrintTo(const broker_factory& f, std::ostream* os) { *os << f.name; }

inline std::string broker_factory_name(const ::testing::TestParamInfo<broker_factory>& info) {
    return info.param.name;
}

/// Records what a broker hands out.
class recording_handler final : public broker_handler {
public:
    void on_publications(std::span<const publication_ptr> pubs) override {
        calls.emplace_back(pubs.begin(), pubs.end());
        all.insert(all.end(), pubs.begin(), pubs.end());
    }
    void on_reset(std::string_view epoch, std::uint64_t seq) override { resets.emplace_back(std::string(epoch), seq); }
    void on_broker_warning(std::string_view event, std::string_view) override {
        events.push_back("warn " + std::string(event));
    }
    void on_broker_info(std::string_view event, std::string_view) override {
        events.push_back("info " + std::string(event));
    }

    std::vector<std::vector<publication_ptr>> calls;  ///< one entry per on_publications call
    std::vector<publication_ptr> all;
    std::vector<std::pair<std::string, std::uint64_t>> resets;
    /// "warn <event>" / "info <event>" in the order reported.
    std::vector<std::string> events;
};

struct publish_result {
    bool completed = false;
    int calls = 0;  ///< how many times `done` ran
    std::error_code ec;
    std::uint64_t first_seq = 0;
    std::size_t handed_out_before_done = 0;  ///< publications the handler had when `done` ran
};

class BrokerConformance : public ::testing::TestWithParam<broker_factory> {
protected:
    /// A started broker keeping `history_size` publications.
    std::unique_ptr<broker> make_started(std::size_t history_size = 1000) {
        auto b = GetParam().make(history_size);
        EXPECT_TRUE(b);
        if (b) b->start(handler);
        return b;
    }

    /// Calls pump() until `done()` holds; false if it never did.
    bool pump_until(const std::function<bool()>& done) {
        for (int i = 0; i < GetParam().max_pump_rounds && !done(); ++i) GetParam().pump();
        return done();
    }

    publish_result publish(broker& b, std::vector<notification> batch) {
        auto r = std::make_shared<publish_result>();
        b.publish(std::move(batch), [r, this](std::error_code ec, std::uint64_t first) {
            ++r->calls;
            r->completed = true;
            r->ec = ec;
            r->first_seq = first;
            r->handed_out_before_done = handler.all.size();
        });
        EXPECT_TRUE(pump_until([&] { return r->completed; })) << "publish never completed";
        // Anything late (a second `done`) shows up after one more round.
        GetParam().pump();
        EXPECT_EQ(r->calls, r->completed ? 1 : 0) << "done must run exactly once";
        return *r;
    }

    history_page read(broker& b, std::string_view epoch, std::uint64_t after, std::size_t max_count) {
        auto page = std::make_shared<std::optional<history_page>>();
        b.read(epoch, after, max_count, [page](history_page p) { *page = std::move(p); });
        EXPECT_TRUE(pump_until([&] { return page->has_value(); })) << "read never completed";
        return page->value_or(history_page{});
    }

    static notification note(std::string collection, std::string action, std::optional<std::string> id = {},
                             std::optional<std::string> data = {}) {
        return notification{std::move(collection), std::move(action), std::move(id), std::move(data)};
    }

    /// `n` distinct notifications: collection "c<start+i>", id "<start+i>".
    static std::vector<notification> batch_of(std::size_t n, std::size_t start = 0) {
        std::vector<notification> v;
        for (std::size_t i = 0; i < n; ++i)
            v.push_back(note("c" + std::to_string(start + i), "update", std::to_string(start + i),
                             R"({"i":)" + std::to_string(start + i) + "}"));
        return v;
    }

    static std::vector<std::uint64_t> seqs_of(const std::vector<publication_ptr>& v) {
        std::vector<std::uint64_t> out;
        for (const auto& p : v) out.push_back(p ? p->seq : 0);
        return out;
    }

    static std::vector<std::uint64_t> seq_range(std::uint64_t first, std::size_t count) {
        std::vector<std::uint64_t> out;
        for (std::size_t i = 0; i < count; ++i) out.push_back(first + i);
        return out;
    }

    recording_handler handler;
};

TEST_P(BrokerConformance, SeqsStartAfterLastSeqAndAreConsecutiveAcrossBatches) {
    auto b = make_started();
    ASSERT_TRUE(b);
    const std::uint64_t base = b->last_seq();

    const auto r1 = publish(*b, batch_of(3, 0));
    ASSERT_FALSE(r1.ec) << r1.ec.message();
    EXPECT_EQ(r1.first_seq, base + 1);
    EXPECT_EQ(b->last_seq(), base + 3);

    const auto r2 = publish(*b, batch_of(1, 3));
    ASSERT_FALSE(r2.ec) << r2.ec.message();
    EXPECT_EQ(r2.first_seq, base + 4);
    EXPECT_EQ(b->last_seq(), base + 4);

    const auto r3 = publish(*b, batch_of(5, 4));
    ASSERT_FALSE(r3.ec) << r3.ec.message();
    EXPECT_EQ(r3.first_seq, base + 5);
    EXPECT_EQ(b->last_seq(), base + 9);

    EXPECT_EQ(seqs_of(handler.all), seq_range(base + 1, 9));
    EXPECT_TRUE(handler.resets.empty());
}

TEST_P(BrokerConformance, HandlerGetsPublicationsInOrderOnceBeforeDone) {
    auto b = make_started();
    ASSERT_TRUE(b);
    const std::uint64_t base = b->last_seq();
    std::vector<notification> sent;
    for (int round = 0; round < 4; ++round) {
        auto batch = batch_of(round + 1, sent.size());
        sent.insert(sent.end(), batch.begin(), batch.end());
        const auto before = handler.all.size();
        const auto r = publish(*b, std::move(batch));
        ASSERT_FALSE(r.ec) << r.ec.message();
        // `done` runs after the handler got the whole batch.
        EXPECT_EQ(r.handed_out_before_done, before + round + 1) << round;
        EXPECT_EQ(r.first_seq, handler.all[before]->seq) << round;
    }
    ASSERT_EQ(handler.all.size(), sent.size());
    EXPECT_EQ(seqs_of(handler.all), seq_range(base + 1, sent.size()));
    for (std::size_t i = 0; i < sent.size(); ++i) {
        const auto& p = handler.all[i];
        ASSERT_TRUE(p) << i;
        EXPECT_EQ(p->collection, sent[i].collection) << i;
        EXPECT_EQ(p->id, sent[i].id.value_or("")) << i;
        // Serialized as the protocol says, with the broker's seq.
        EXPECT_EQ(p->json(), make_publication(p->seq, sent[i])->json()) << i;
        EXPECT_EQ(p->frame, make_publication(p->seq, sent[i])->frame) << i;
    }
}

TEST_P(BrokerConformance, NotificationsWithoutIdOrData) {
    auto b = make_started();
    ASSERT_TRUE(b);
    const auto r = publish(*b, {note("forums", "refresh")});
    ASSERT_FALSE(r.ec) << r.ec.message();
    ASSERT_EQ(handler.all.size(), 1u);
    EXPECT_EQ(handler.all[0]->id, "");
    EXPECT_EQ(handler.all[0]->json(),
              R"({"seq":)" + std::to_string(r.first_seq) + R"(,"collection":"forums","action":"refresh"})");
}

TEST_P(BrokerConformance, BatchIsAllOrNothingWithConsecutiveSeqs) {
    auto b = make_started();
    ASSERT_TRUE(b);
    const std::uint64_t base = b->last_seq();
    const auto r = publish(*b, batch_of(7));
    ASSERT_FALSE(r.ec) << r.ec.message();
    EXPECT_EQ(r.first_seq, base + 1);
    EXPECT_EQ(seqs_of(handler.all), seq_range(base + 1, 7));
    EXPECT_EQ(b->last_seq(), base + 7);
    // The whole batch is stored.
    const auto page = read(*b, b->epoch(), base, 100);
    EXPECT_EQ(page.result, history_page::status::ok);
    EXPECT_EQ(seqs_of(page.pubs), seq_range(base + 1, 7));

    // A batch that cannot be published leaves no trace.
    b->stop();
    const auto failed = publish(*b, batch_of(5, 7));
    EXPECT_TRUE(failed.ec);
    EXPECT_EQ(handler.all.size(), 7u);
    EXPECT_EQ(b->last_seq(), base + 7);
}

TEST_P(BrokerConformance, ReadPages) {
    auto b = make_started(100);
    ASSERT_TRUE(b);
    const std::uint64_t base = b->last_seq();
    for (std::size_t i = 0; i < 5; ++i) ASSERT_FALSE(publish(*b, batch_of(5, i * 5)).ec);
    ASSERT_EQ(b->last_seq(), base + 25);

    std::vector<publication_ptr> got;
    std::uint64_t after = base;
    int pages = 0;
    for (; pages < 10; ++pages) {
        const auto page = read(*b, b->epoch(), after, 10);
        ASSERT_EQ(page.result, history_page::status::ok) << after;
        EXPECT_EQ(page.epoch, b->epoch());
        EXPECT_EQ(page.last_seq, base + 25);
        EXPECT_LE(page.pubs.size(), 10u);
        if (page.pubs.empty()) break;
        EXPECT_EQ(page.pubs.front()->seq, after + 1);
        got.insert(got.end(), page.pubs.begin(), page.pubs.end());
        after = page.pubs.back()->seq;
    }
    EXPECT_EQ(pages, 3);
    EXPECT_EQ(seqs_of(got), seq_range(base + 1, 25));
    // The history holds the same publications the handler got.
    ASSERT_EQ(got.size(), handler.all.size());
    for (std::size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i]->frame, handler.all[i]->frame) << i;
}

TEST_P(BrokerConformance, ReadAtNewestIsOkAndEmpty) {
    auto b = make_started();
    ASSERT_TRUE(b);
    ASSERT_FALSE(publish(*b, batch_of(2)).ec);
    const auto page = read(*b, b->epoch(), b->last_seq(), 10);
    EXPECT_EQ(page.result, history_page::status::ok);
    EXPECT_TRUE(page.pubs.empty());
    EXPECT_EQ(page.last_seq, b->last_seq());
}

TEST_P(BrokerConformance, ReadGoneAfterEviction) {
    auto b = make_started(4);
    ASSERT_TRUE(b);
    const std::uint64_t base = b->last_seq();
    ASSERT_FALSE(publish(*b, batch_of(6)).ec);
    ASSERT_FALSE(publish(*b, batch_of(4, 6)).ec);
    const std::uint64_t last = b->last_seq();
    ASSERT_EQ(last, base + 10);

    const auto all_gone = read(*b, b->epoch(), base, 100);
    EXPECT_EQ(all_gone.result, history_page::status::gone);
    EXPECT_TRUE(all_gone.pubs.empty());
    EXPECT_EQ(all_gone.epoch, b->epoch());
    EXPECT_EQ(all_gone.last_seq, last);

    // The newest 4 are kept: reading after last - 4 continues without a gap...
    const auto kept = read(*b, b->epoch(), last - 4, 100);
    EXPECT_EQ(kept.result, history_page::status::ok);
    EXPECT_EQ(seqs_of(kept.pubs), seq_range(last - 3, 4));
    // ...one further back does not.
    const auto one_more = read(*b, b->epoch(), last - 5, 100);
    EXPECT_EQ(one_more.result, history_page::status::gone);
}

TEST_P(BrokerConformance, ReadUnknownEpoch) {
    auto b = make_started();
    ASSERT_TRUE(b);
    ASSERT_FALSE(publish(*b, batch_of(3)).ec);
    for (const std::string epoch : {std::string(), std::string("not-an-epoch"), b->epoch() + "x",
                                    b->epoch().substr(0, b->epoch().size() - 1)}) {
        const auto page = read(*b, epoch, b->last_seq() - 1, 10);
        EXPECT_EQ(page.result, history_page::status::unknown_epoch) << '"' << epoch << '"';
        EXPECT_TRUE(page.pubs.empty());
        EXPECT_EQ(page.epoch, b->epoch());
        EXPECT_EQ(page.last_seq, b->last_seq());
    }
}

TEST_P(BrokerConformance, ReadFuture) {
    auto b = make_started();
    ASSERT_TRUE(b);
    ASSERT_FALSE(publish(*b, batch_of(3)).ec);
    const auto page = read(*b, b->epoch(), b->last_seq() + 1, 10);
    EXPECT_EQ(page.result, history_page::status::future);
    EXPECT_TRUE(page.pubs.empty());
    EXPECT_EQ(page.last_seq, b->last_seq());
    EXPECT_EQ(read(*b, b->epoch(), b->last_seq() + 1000, 10).result, history_page::status::future);
}

TEST_P(BrokerConformance, EpochIsStableAndLongEnough) {
    auto b = make_started();
    ASSERT_TRUE(b);
    const std::string epoch = b->epoch();
    EXPECT_GE(epoch.size(), 16u);
    for (int i = 0; i < 5; ++i) ASSERT_FALSE(publish(*b, batch_of(2, 2 * i)).ec);
    EXPECT_EQ(b->epoch(), epoch);
    EXPECT_EQ(read(*b, epoch, b->last_seq(), 1).epoch, epoch);
    EXPECT_TRUE(handler.resets.empty());
}

TEST_P(BrokerConformance, PublishAfterStopFails) {
    auto b = make_started();
    ASSERT_TRUE(b);
    ASSERT_FALSE(publish(*b, batch_of(2)).ec);
    const std::uint64_t last = b->last_seq();
    const auto before = handler.all.size();
    b->stop();
    GetParam().pump();
    const auto r = publish(*b, batch_of(3, 2));
    EXPECT_TRUE(r.completed);
    EXPECT_TRUE(r.ec) << "publish after stop() must fail";
    EXPECT_EQ(handler.all.size(), before);
    EXPECT_EQ(b->last_seq(), last);
}

}  // namespace notifier::testing
