// SPDX-License-Identifier: MIT
#pragma once
// Metrics that change sources (SQLite, PostgreSQL, …) report through the hub
// on GET /metrics. Sources live in their own targets and never see the hub's
// internals: they register a function the hub calls at scrape time.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace notifier {

/// A change source's state at scrape time, emitted with the label
/// source="<name>" (docs/operations.md).
struct source_metrics {
    bool connected = false;        ///< notifier_source_up: 1 while it can read its database
    std::uint64_t changes = 0;     ///< notifier_source_changes_total: changes emitted since start
    std::uint64_t errors = 0;      ///< notifier_source_errors_total: failures reported (then retried)
    double lag_seconds = 0;        ///< notifier_source_lag_seconds: age of the oldest change not yet emitted
};

/// Reads a source's metrics. Called at every scrape on the loop of the shard
/// that answers it (two scrapes may call it at once from two shards), so it
/// must be thread-safe with respect to the source and quick (read a
/// few atomics; no I/O). It must not register or unregister metrics.
using source_metrics_reader = std::function<source_metrics()>;

namespace core {
class source_metrics_registry;
}

/// Keeps a source's metrics registered while it lives; unregisters on
/// destruction (or reset()), after which the reader is never called again —
/// a source destroys its registration before the state its reader uses.
/// May outlive the hub.
class [[nodiscard]] metrics_registration {
public:
    metrics_registration() = default;
    /// Made by hub::add_source_metrics().
    metrics_registration(std::weak_ptr<core::source_metrics_registry> registry, std::uint64_t id) noexcept
        : registry_(std::move(registry)), id_(id) {}
    metrics_registration(metrics_registration&& o) noexcept;
    metrics_registration& operator=(metrics_registration&& o) noexcept;
    metrics_registration(const metrics_registration&) = delete;
    metrics_registration& operator=(const metrics_registration&) = delete;
    ~metrics_registration() { reset(); }

    /// Unregisters now. Blocks while a scrape is calling the reader.
    void reset() noexcept;
    explicit operator bool() const noexcept { return id_ != 0; }

private:
    std::weak_ptr<core::source_metrics_registry> registry_;
    std::uint64_t id_ = 0;
};

}  // namespace notifier
