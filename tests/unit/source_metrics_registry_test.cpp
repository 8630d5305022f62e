// SPDX-License-Identifier: MIT
// Registering change-source metrics: names, readers, removal (also while a
// scrape runs) and registrations that outlive the registry.

#include "core/source_metrics_registry.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <thread>

using notifier::metrics_registration;
using notifier::source_metrics;
using notifier::core::source_metrics_registry;

TEST(source_metrics_registry, reads_every_source_in_registration_order) {
    source_metrics_registry r;
    std::uint64_t changes = 5;
    r.add("b", [&] { return source_metrics{true, changes, 1, 0.5}; });
    r.add("a", [] { return source_metrics{}; });
    changes = 6;  // read at scrape time, not at registration
    auto all = r.read_all();
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(all[0].first, "b");
    EXPECT_TRUE(all[0].second.connected);
    EXPECT_EQ(all[0].second.changes, 6u);
    EXPECT_EQ(all[0].second.errors, 1u);
    EXPECT_EQ(all[0].second.lag_seconds, 0.5);
    EXPECT_EQ(all[1].first, "a");
    EXPECT_FALSE(all[1].second.connected);
}

TEST(source_metrics_registry, refuses_empty_names_empty_readers_and_duplicates) {
    source_metrics_registry r;
    EXPECT_THROW(r.add("", [] { return source_metrics{}; }), std::invalid_argument);
    EXPECT_THROW(r.add("x", nullptr), std::invalid_argument);
    const auto id = r.add("x", [] { return source_metrics{}; });
    EXPECT_NE(id, 0u);
    EXPECT_THROW(r.add("x", [] { return source_metrics{}; }), std::invalid_argument);
    r.remove(id);
    EXPECT_NO_THROW(r.add("x", [] { return source_metrics{}; }));  // free again
}

TEST(source_metrics_registry, a_throwing_reader_is_left_out) {
    source_metrics_registry r;
    r.add("broken", []() -> source_metrics { throw std::runtime_error("no"); });
    r.add("fine", [] { return source_metrics{true, 1, 0, 0}; });
    auto all = r.read_all();
    ASSERT_EQ(all.size(), 1u);
    EXPECT_EQ(all[0].first, "fine");
}

TEST(source_metrics_registry, registration_unregisters_on_destruction_and_move) {
    auto r = std::make_shared<source_metrics_registry>();
    {
        metrics_registration reg(r, r->add("a", [] { return source_metrics{}; }));
        EXPECT_TRUE(reg);
        metrics_registration moved = std::move(reg);
        EXPECT_FALSE(reg);  // NOLINT: moved-from is empty by contract
        EXPECT_EQ(r->read_all().size(), 1u);
        metrics_registration other(r, r->add("b", [] { return source_metrics{}; }));
        other = std::move(moved);  // drops "b", keeps "a"
        auto all = r->read_all();
        ASSERT_EQ(all.size(), 1u);
        EXPECT_EQ(all[0].first, "a");
    }
    EXPECT_TRUE(r->read_all().empty());
}

TEST(source_metrics_registry, registration_may_outlive_the_registry) {
    metrics_registration reg;
    {
        auto r = std::make_shared<source_metrics_registry>();
        reg = metrics_registration(r, r->add("a", [] { return source_metrics{}; }));
    }
    reg.reset();  // nothing to remove from: no crash
    EXPECT_FALSE(reg);
}

// Once reset() returns, the reader is not running: a source may then free
// what its reader uses.
TEST(source_metrics_registry, reset_waits_for_a_running_reader) {
    auto r = std::make_shared<source_metrics_registry>();
    std::atomic<bool> entered{false}, resetting{false}, finished{false};
    metrics_registration reg(r, r->add("slow", [&] {
        entered = true;
        while (!resetting) std::this_thread::yield();
        // The resetting thread is (about to be) blocked in reset(); give it
        // time to return early if reset() did not wait.
        for (int i = 0; i < 10'000; ++i) std::this_thread::yield();
        finished = true;
        return source_metrics{};
    }));
    std::thread scraper([&] { r->read_all(); });
    while (!entered) std::this_thread::yield();
    resetting = true;
    reg.reset();
    EXPECT_TRUE(finished.load());
    scraper.join();
}
