// SPDX-License-Identifier: MIT
#pragma once
// The change sources whose metrics GET /metrics reports (notifier/metrics.hpp).

#include <notifier/metrics.hpp>

#include <cstdint>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace notifier::core {

/// Thread-safe: sources register from their own threads, the hub reads on
/// its loop.
class source_metrics_registry {
public:
    /// Registers `read` under `name` and returns a non-zero id for remove().
    /// Throws std::invalid_argument for an empty name or reader, or a name
    /// already registered (one series per source).
    std::uint64_t add(std::string name, source_metrics_reader read);
    /// Unregisters; once it returns the reader is not running and never runs
    /// again. Unknown ids are ignored.
    void remove(std::uint64_t id) noexcept;

    /// Every source's metrics, in registration order. The readers run under
    /// the lock (that is what makes remove() final); a reader that throws
    /// is left out of this scrape.
    std::vector<std::pair<std::string, source_metrics>> read_all() const;

private:
    struct entry {
        std::uint64_t id;
        std::string name;
        source_metrics_reader read;
    };
    mutable std::mutex mutex_;
    std::vector<entry> entries_;
    std::uint64_t next_id_ = 1;
};

}  // namespace notifier::core
