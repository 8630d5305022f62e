// SPDX-License-Identifier: MIT
#include "core/metrics_text.hpp"

#include <prometheus/text_serializer.h>

#include <algorithm>
#include <limits>
#include <stdexcept>

namespace notifier::core {

namespace {

bool valid_name(std::string_view s, bool colon_ok) {
    auto letter = [&](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon_ok && c == ':');
    };
    if (s.empty() || !letter(s.front())) return false;
    return std::all_of(s.begin() + 1, s.end(), [&](char c) { return letter(c) || (c >= '0' && c <= '9'); });
}

}  // namespace

void metrics_text::family(std::string name, std::string help, kind k) {
    if (!valid_name(name, true)) throw std::invalid_argument("invalid metric name \"" + name + "\"");
    for (const auto& f : families_)
        if (f.name == name) throw std::invalid_argument("metric \"" + name + "\" added twice");
    // prometheus-cpp 1.0.1 writes HELP unescaped; our texts are constants,
    // so refusing what would need escaping keeps the output valid.
    if (help.find_first_of("\\\n") != std::string::npos)
        throw std::invalid_argument("help of \"" + name + "\" holds a backslash or newline");
    prometheus::MetricFamily f;
    f.name = std::move(name);
    f.help = std::move(help);
    f.type = k == kind::counter ? prometheus::MetricType::Counter
             : k == kind::gauge ? prometheus::MetricType::Gauge
                                : prometheus::MetricType::Histogram;
    families_.push_back(std::move(f));
}

void metrics_text::sample(double value, labels l) {
    if (families_.empty()) throw std::logic_error("metrics_text::sample() before family()");
    auto& f = families_.back();
    prometheus::ClientMetric m;
    for (auto& [k, v] : l) {
        if (!valid_name(k, false) || k.starts_with("__")) throw std::invalid_argument("invalid label name \"" + k + "\"");
        m.label.push_back({std::move(k), std::move(v)});
    }
    if (f.type == prometheus::MetricType::Histogram)
        throw std::logic_error("metrics_text::sample() on a histogram family");
    if (f.type == prometheus::MetricType::Counter) m.counter.value = value;
    else m.gauge.value = value;
    f.metric.push_back(std::move(m));
}

void metrics_text::histogram(std::string name, std::string help, std::span<const double> upper_bounds,
                             std::span<const std::uint64_t> counts, double sum) {
    if (counts.size() != upper_bounds.size() + 1)
        throw std::invalid_argument("histogram \"" + name + "\": one count per bound and one for +Inf");
    for (std::size_t i = 1; i < upper_bounds.size(); ++i)
        if (!(upper_bounds[i - 1] < upper_bounds[i]))
            throw std::invalid_argument("histogram \"" + name + "\": bounds must increase");
    family(std::move(name), std::move(help), kind::histogram);
    prometheus::ClientMetric m;
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < upper_bounds.size(); ++i) {
        cumulative += counts[i];
        m.histogram.bucket.push_back({cumulative, upper_bounds[i]});
    }
    cumulative += counts.back();
    m.histogram.bucket.push_back({cumulative, std::numeric_limits<double>::infinity()});
    m.histogram.sample_count = cumulative;
    m.histogram.sample_sum = sum;
    families_.back().metric.push_back(std::move(m));
}

void metrics_text::counter(std::string name, std::string help, double value) {
    family(std::move(name), std::move(help), kind::counter);
    sample(value);
}

void metrics_text::gauge(std::string name, std::string help, double value) {
    family(std::move(name), std::move(help), kind::gauge);
    sample(value);
}

std::string metrics_text::str() const { return prometheus::TextSerializer().Serialize(families_); }

}  // namespace notifier::core
