// SPDX-License-Identifier: MIT
#pragma once

#include <atomic>

namespace loadgen {

struct options;
struct url;

// Set by SIGINT/SIGTERM: end publishing early and still report.
extern std::atomic<bool> stop_requested;

// Each returns the process exit status (0 done, 1 could not connect).
int run_fanout(const options& opts, const url& target, const url& publish_target);
int run_idle(const options& opts, const url& target);

}  // namespace loadgen
