// SPDX-License-Identifier: MIT
#pragma once

#include <atomic>

namespace loadgen {

class tls_context;
struct options;
struct url;

// Set by SIGINT/SIGTERM: end publishing early and still report.
extern std::atomic<bool> stop_requested;

// Each returns the process exit status (0 done, 1 could not connect). tls is
// non-null when a URL is wss:// or https://; each URL's own scheme says
// whether its connections use it.
int run_fanout(const options& opts, const url& target, const url& publish_target, const tls_context* tls);
int run_idle(const options& opts, const url& target, const tls_context* tls);

}  // namespace loadgen
