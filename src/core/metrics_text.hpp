// SPDX-License-Identifier: MIT
#pragma once
// The Prometheus text exposition format 0.0.4 of one scrape, built from
// plain values at scrape time and written by prometheus-cpp's serializer
// (escaping, number formatting). Nothing here is touched on the hot path.

#include <prometheus/metric_family.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace notifier::core {

class metrics_text {
public:
    using labels = std::vector<std::pair<std::string, std::string>>;
    enum class kind { counter, gauge, histogram };

    /// The Content-Type of the output.
    static constexpr std::string_view content_type = "text/plain; version=0.0.4; charset=utf-8";

    /// Starts a family; the samples added next belong to it. Throws
    /// std::invalid_argument for a name that is not [a-zA-Z_:][a-zA-Z0-9_:]*,
    /// one already used, or help holding `\` or a newline (all would make
    /// the output invalid).
    void family(std::string name, std::string help, kind k);
    /// A sample of the current family. Label names must be valid
    /// ([a-zA-Z_][a-zA-Z0-9_]*); values may hold anything (escaped).
    /// NaN is written "Nan" by prometheus-cpp 1.0.1, which Prometheus
    /// accepts (it parses floats case-insensitively).
    void sample(double value, labels l = {});

    /// A histogram family with one unlabelled sample: bucket counts as
    /// recorded (not cumulative), one more than `upper_bounds` (the last is
    /// +Inf), and the sum of the observations.
    void histogram(std::string name, std::string help, std::span<const double> upper_bounds,
                   std::span<const std::uint64_t> counts, double sum);

    /// A family with one unlabelled sample.
    void counter(std::string name, std::string help, double value);
    void gauge(std::string name, std::string help, double value);

    std::string str() const;

private:
    std::vector<prometheus::MetricFamily> families_;
};

}  // namespace notifier::core
