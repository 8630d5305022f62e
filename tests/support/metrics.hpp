// SPDX-License-Identifier: MIT
#pragma once
// Reads GET /metrics of a test server: one scrape, and one sample of it.

#include "support/ws_client.hpp"

#include <cstdint>
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

}  // namespace notifier::test
