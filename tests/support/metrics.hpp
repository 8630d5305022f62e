// SPDX-License-Identifier: MIT
#pragma once
// Reads GET /metrics of a test server: one scrape, one sample of it, and
// the samples a test expects.

#include "support/http_client.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <initializer_list>
#include <sstream>
#include <string>
#include <utility>

namespace notifier::test {

/// GET /metrics on a new connection: (status, body).
inline std::pair<unsigned, std::string> scrape_metrics(std::uint16_t port) {
    return http_call(port, boost::beast::http::verb::get, "/metrics", {}, {});
}

/// The value of the sample named exactly `series` (name and labels, e.g.
/// `notifier_shard_sessions{shard="0"}`), or -1 when there is none.
inline double metric_sample(const std::string& text, const std::string& series) {
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 && line[series.size()] == ' ')
            return std::stod(line.substr(series.size() + 1));
    return -1;
}

/// Scrapes once and expects each series at its value (-1: absent).
inline void expect_metrics(std::uint16_t port, std::initializer_list<std::pair<std::string, double>> want) {
    const auto [status, text] = scrape_metrics(port);
    ASSERT_EQ(status, 200u) << text;
    for (const auto& [series, value] : want) EXPECT_EQ(metric_sample(text, series), value) << series;
}

}  // namespace notifier::test
