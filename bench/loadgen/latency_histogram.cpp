// SPDX-License-Identifier: MIT
#include "latency_histogram.hpp"

#include <algorithm>
#include <cmath>

namespace loadgen {

latency_histogram::latency_histogram() : counts_(index_of(max_trackable) + 1, 0) {}

std::uint64_t latency_histogram::upper_edge(std::size_t i) noexcept {
    if (i < sub_count) return i;
    std::uint64_t shift = i / half_count - 1;
    std::uint64_t sub = i % half_count + half_count;
    return ((sub + 1) << shift) - 1;
}

std::uint64_t latency_histogram::quantile(double q) const noexcept {
    if (count_ == 0) return 0;
    q = std::clamp(q, 0.0, 1.0);
    auto rank = std::uint64_t(std::ceil(q * double(count_)));
    if (rank == 0) rank = 1;
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < counts_.size(); ++i) {
        seen += counts_[i];
        if (seen >= rank) return std::min(upper_edge(i), max_);
    }
    return max_;
}

}  // namespace loadgen
