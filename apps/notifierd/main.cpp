// SPDX-License-Identifier: MIT
// notifierd: the notifier hub as a standalone server (docs/configuration.md).

#include "config.hpp"
#include "run.hpp"

int main(int argc, char** argv) {
    int exit_code = 0;
    const auto cfg = notifierd::parse_config(argc, argv, exit_code);
    return cfg ? notifierd::run(*cfg) : exit_code;
}
