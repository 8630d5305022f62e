// SPDX-License-Identifier: MIT
// The Prometheus text of a scrape, byte for byte, and the checks that keep
// it valid (names, labels); the duration histogram behind two of its families.

#include "core/duration_histogram.hpp"
#include "core/metrics_text.hpp"

#include <gtest/gtest.h>

#include <array>
#include <stdexcept>

using notifier::core::metrics_text;

TEST(metrics_text, families_with_help_type_and_samples) {
    metrics_text m;
    m.counter("notifier_published_total", "Notifications published.", 12);
    m.gauge("notifier_last_seq", "Newest seq.", 12345678901.0);
    m.family("notifier_publish_requests_total", "By status.", metrics_text::kind::counter);
    m.sample(3, {{"code", "202"}});
    m.sample(1, {{"code", "400"}});
    m.family("notifier_source_up", "Up.", metrics_text::kind::gauge);  // no samples yet
    m.gauge("notifier_lag_seconds", "Lag.", 0.25);
    EXPECT_EQ(m.str(),
              "# HELP notifier_published_total Notifications published.\n"
              "# TYPE notifier_published_total counter\n"
              "notifier_published_total 12\n"
              "# HELP notifier_last_seq Newest seq.\n"
              "# TYPE notifier_last_seq gauge\n"
              "notifier_last_seq 12345678901\n"
              "# HELP notifier_publish_requests_total By status.\n"
              "# TYPE notifier_publish_requests_total counter\n"
              "notifier_publish_requests_total{code=\"202\"} 3\n"
              "notifier_publish_requests_total{code=\"400\"} 1\n"
              "# HELP notifier_source_up Up.\n"
              "# TYPE notifier_source_up gauge\n"
              "# HELP notifier_lag_seconds Lag.\n"
              "# TYPE notifier_lag_seconds gauge\n"
              "notifier_lag_seconds 0.25\n");
}

TEST(metrics_text, label_values_are_escaped) {
    metrics_text m;
    m.family("notifier_source_up", "Up.", metrics_text::kind::gauge);
    m.sample(1, {{"source", "a \"quoted\" \\ name\nwith newline"}});
    EXPECT_EQ(m.str(),
              "# HELP notifier_source_up Up.\n"
              "# TYPE notifier_source_up gauge\n"
              "notifier_source_up{source=\"a \\\"quoted\\\" \\\\ name\\nwith newline\"} 1\n");
}

// prometheus-cpp 1.0.1 does not escape HELP: what would need it is refused.
TEST(metrics_text, help_needing_escapes_is_refused) {
    metrics_text m;
    EXPECT_THROW(m.gauge("a", "back\\slash", 1), std::invalid_argument);
    EXPECT_THROW(m.gauge("b", "new\nline", 1), std::invalid_argument);
}

TEST(metrics_text, special_values) {
    metrics_text m;
    m.gauge("a", "", std::numeric_limits<double>::infinity());
    m.gauge("b", "", -std::numeric_limits<double>::infinity());
    m.gauge("c", "", std::numeric_limits<double>::quiet_NaN());
    const auto s = m.str();
    EXPECT_NE(s.find("\na +Inf\n"), std::string::npos) << s;
    EXPECT_NE(s.find("\nb -Inf\n"), std::string::npos) << s;
    // "NaN" in the format's description; prometheus-cpp 1.0.1 writes "Nan",
    // which Prometheus and the Python client parse alike.
    EXPECT_TRUE(s.find("\nc NaN\n") != std::string::npos || s.find("\nc Nan\n") != std::string::npos) << s;
}

TEST(metrics_text, invalid_names_are_refused) {
    metrics_text m;
    EXPECT_THROW(m.gauge("", "", 1), std::invalid_argument);
    EXPECT_THROW(m.gauge("1abc", "", 1), std::invalid_argument);
    EXPECT_THROW(m.gauge("with-dash", "", 1), std::invalid_argument);
    EXPECT_THROW(m.gauge("with space", "", 1), std::invalid_argument);
    EXPECT_NO_THROW(m.gauge("ns:sub_name9", "", 1));
    EXPECT_THROW(m.gauge("ns:sub_name9", "", 1), std::invalid_argument);  // twice
    m.family("x", "", metrics_text::kind::counter);
    EXPECT_THROW(m.sample(1, {{"__reserved", "v"}}), std::invalid_argument);
    EXPECT_THROW(m.sample(1, {{"a:b", "v"}}), std::invalid_argument);
    EXPECT_THROW(m.sample(1, {{"", "v"}}), std::invalid_argument);
    EXPECT_NO_THROW(m.sample(1, {{"_ok9", "any \xe2\x9c\x93 value"}}));
}

TEST(metrics_text, sample_before_family_is_a_logic_error) {
    metrics_text m;
    EXPECT_THROW(m.sample(1), std::logic_error);
}

TEST(metrics_text, content_type_is_version_0_0_4) {
    EXPECT_EQ(metrics_text::content_type, "text/plain; version=0.0.4; charset=utf-8");
}

TEST(metrics_text, histograms_are_cumulative_with_count_sum_and_inf) {
    metrics_text m;
    const std::array<double, 2> bounds{0.001, 0.01};
    const std::array<std::uint64_t, 3> counts{3, 2, 1};  // as recorded, +Inf last
    m.histogram("lat_seconds", "Latency.", bounds, counts, 0.5);
    const auto s = m.str();
    EXPECT_NE(s.find("# TYPE lat_seconds histogram\n"), std::string::npos) << s;
    EXPECT_NE(s.find("\nlat_seconds_bucket{le=\"0.001\"} 3\n"), std::string::npos) << s;
    EXPECT_NE(s.find("\nlat_seconds_bucket{le=\"0.01\"} 5\n"), std::string::npos) << s;
    EXPECT_NE(s.find("\nlat_seconds_bucket{le=\"+Inf\"} 6\n"), std::string::npos) << s;
    EXPECT_NE(s.find("\nlat_seconds_count 6\n"), std::string::npos) << s;
    EXPECT_NE(s.find("\nlat_seconds_sum 0.5\n"), std::string::npos) << s;
    EXPECT_EQ(s.find("le=\"+Inf\"", s.find("le=\"+Inf\"") + 1), std::string::npos) << "+Inf twice: " << s;
}

TEST(metrics_text, histograms_refuse_mismatched_or_unordered_bounds) {
    metrics_text m;
    const std::array<double, 2> bounds{0.01, 0.001};
    const std::array<std::uint64_t, 3> three{0, 0, 0};
    const std::array<std::uint64_t, 2> two{0, 0};
    EXPECT_THROW(m.histogram("h", "", bounds, three, 0), std::invalid_argument);
    const std::array<double, 2> ordered{0.001, 0.01};
    EXPECT_THROW(m.histogram("h", "", ordered, two, 0), std::invalid_argument);
    m.histogram("h", "", ordered, three, 0);
    EXPECT_THROW(m.sample(1), std::logic_error);  // a histogram takes no plain sample
}

TEST(duration_histogram, each_duration_lands_in_the_first_bucket_that_holds_it) {
    notifier::core::duration_histogram h;
    h.record(0);               // le 50 µs
    h.record(50'000);          // exactly on a bound: that bucket
    h.record(50'001);          // next one
    h.record(1'000'000);       // le 1 ms
    h.record(2'000'000'000);   // above every bound
    const auto c = h.counts();
    ASSERT_EQ(c.size(), notifier::core::duration_histogram::bounds_seconds.size() + 1);
    EXPECT_EQ(c[0], 2u);
    EXPECT_EQ(c[1], 1u);
    EXPECT_EQ(c[4], 1u);  // 0.001 s
    EXPECT_EQ(c.back(), 1u);
    EXPECT_EQ(h.count(), 5u);
    EXPECT_DOUBLE_EQ(h.sum_seconds(), (50'000 + 50'001 + 1'000'000 + 2'000'000'000.0) / 1e9);
}
