// SPDX-License-Identifier: MIT
#pragma once
// notifier-forum's command line.

#include <notifier/options.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace forum {

struct forum_options {
    std::string listen_host = "127.0.0.1";
    std::uint16_t listen_port = 8080;
    std::string db_path = "forum.db";
    std::string static_dir;  ///< the built web app
    std::chrono::milliseconds poll_interval{50};
    /// HS256 secret for subscriber tokens (as notifierd's --jwt-secret);
    /// empty: every page may subscribe to everything. The REST API stays
    /// open either way: tokens limit what a page is told, not what it may
    /// fetch or change.
    std::string jwt_secret;
    /// PEM certificate chain and key: the demo then serves https:// and
    /// wss:// itself (options::tls_cert_file); empty: plain HTTP.
    std::string tls_cert_file, tls_key_file;
};

/// Parses argv; nullopt when the program should exit with `exit_code` (after
/// --help, or with a message on a bad option).
std::optional<forum_options> parse_options(int argc, char** argv, int& exit_code);

/// The hub's options for the demo: its address, the web app as static files,
/// `api` as application routes and the token secret, if any. Notifications come from the SQLite
/// capture only, so the hub serves no POST /publish (anyone who can connect
/// could publish) and no built-in page beside the app.
notifier::options hub_options(const forum_options& cfg, notifier::http_handler api);

}  // namespace forum
