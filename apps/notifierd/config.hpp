#pragma once
// notifierd's command line → notifier::options.

#include <notifier/options.hpp>

#include <optional>
#include <string>

namespace notifierd {

struct config {
    notifier::options hub;
    std::string redis_url;  ///< empty: the in-memory broker
};

/// Parses argv. Returns nullopt when the program should exit with `exit_code`
/// (after --help, or with a message on a bad option).
std::optional<config> parse_config(int argc, char** argv, int& exit_code);

}  // namespace notifierd
