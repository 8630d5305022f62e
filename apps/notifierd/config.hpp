// SPDX-License-Identifier: MIT
#pragma once
// notifierd's configuration: flags, NOTIFIER_* variables and an optional TOML
// file, one option set (docs/configuration.md) → what run() needs.

#include <notifier/options.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace notifierd {

/// PostgreSQL change capture (notifier::postgres_source_options); only in a
/// build with NOTIFIER_WITH_POSTGRES.
struct postgres_config {
    std::string url;  ///< empty: no capture
    std::vector<std::string> tables;
    std::string slot = "notifier";
    std::string publication = "notifier";
    bool install = false;  ///< create the slot and publication at start when missing
    bool keep_replica_identity = false;  ///< install: leave the tables' replica identity (default: set FULL)
    std::size_t max_data_bytes = 64 << 10;
};

/// What notifierd was asked to do.
enum class command {
    serve,               ///< the server
    postgres_install,    ///< `notifierd postgres install`
    postgres_uninstall,  ///< `notifierd postgres uninstall`
};

struct config {
    command what = command::serve;
    notifier::options hub;
    std::string redis_url;  ///< empty: the in-memory broker
    postgres_config postgres;
    bool print_sql = false;  ///< postgres install/uninstall: print the SQL, connect to nothing
};

/// Parses argv, the environment and the --config file. Returns nullopt when
/// the program should exit with `exit_code`: 0 after --help or
/// --check-config, 2 with a message on stderr for a bad configuration.
std::optional<config> parse_config(int argc, char** argv, int& exit_code);

}  // namespace notifierd
