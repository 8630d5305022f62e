// SPDX-License-Identifier: MIT
#pragma once
// What notifierd does with a valid configuration.

namespace notifierd {

struct config;

/// Serves (until SIGINT/SIGTERM) or runs the `postgres install|uninstall`
/// command. Returns the exit status: 0, 1 for a runtime failure (e.g. the
/// database refused), 2 for options only the library could refuse.
int run(const config& cfg);

}  // namespace notifierd
