// SPDX-License-Identifier: MIT
#include "forum_options.hpp"

#include <notifier/options.hpp>

#include <CLI/CLI.hpp>
#include <boost/asio/ip/address.hpp>

#include <cstdio>

#ifndef NOTIFIER_FORUM_WEB_DIR
#define NOTIFIER_FORUM_WEB_DIR ""
#endif

namespace forum {

std::optional<forum_options> parse_options(int argc, char** argv, int& exit_code) {
    forum_options o;
    o.static_dir = NOTIFIER_FORUM_WEB_DIR;  // the bundle CMake builds
    CLI::App app{"notifier-forum: a forum on SQLite whose pages update live (REST API at /api, WebSocket at /ws)"};
    std::string listen = "127.0.0.1:8080";
    long poll_ms = o.poll_interval.count();
    bool insecure = false;
    app.add_option("--listen", listen, "address to listen on, HOST:PORT (port 0 picks one)")->capture_default_str();
    app.add_option("--db", o.db_path, "SQLite database file, created on first run")->capture_default_str();
    app.add_option("--static-dir", o.static_dir, "the built web app served at /")->capture_default_str();
    app.add_option("--poll-interval-ms", poll_ms, "how often other processes' commits are looked for")
        ->capture_default_str()->check(CLI::Range(1l, 10'000l));
    app.add_option("--jwt-secret", o.jwt_secret,
                   "HS256 secret for subscriber tokens (at least 32 bytes): pages then need ?token=")
        ->envname("NOTIFIER_JWT_SECRET");
    app.add_option("--tls-cert", o.tls_cert_file, "PEM certificate chain: serve https:// and wss://")
        ->check(CLI::ExistingFile);
    app.add_option("--tls-key", o.tls_key_file, "PEM private key of --tls-cert")->check(CLI::ExistingFile);
    app.add_flag("--insecure", insecure, "allow a non-loopback --listen (the demo's API has no authentication)");
    // The last value wins, so scripts/run's defaults can be overridden.
    for (auto* opt : app.get_options()) opt->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        exit_code = app.exit(e);
        return std::nullopt;
    }
    if (!notifier::parse_listen_address(listen, o.listen_host, o.listen_port) || o.listen_host.empty()) {
        std::fprintf(stderr, "notifier-forum: --listen: expected HOST:PORT, got \"%s\"\n", listen.c_str());
        exit_code = 2;
        return std::nullopt;
    }
    // As notifierd: RFC 7518 section 3.2 asks for a key of at least the hash's size.
    constexpr std::size_t min_secret_bytes = 32;
    if (!o.jwt_secret.empty() && o.jwt_secret.size() < min_secret_bytes) {
        std::fprintf(stderr, "notifier-forum: --jwt-secret: an HS256 secret must be at least 32 bytes (256 bits, "
                             "RFC 7518 section 3.2), got %zu; e.g. openssl rand -hex 32\n", o.jwt_secret.size());
        exit_code = 2;
        return std::nullopt;
    }
    if (o.tls_cert_file.empty() != o.tls_key_file.empty()) {
        std::fprintf(stderr, "notifier-forum: --tls-cert and --tls-key go together\n");
        exit_code = 2;
        return std::nullopt;
    }
    boost::system::error_code ec;
    const auto addr = boost::asio::ip::make_address(o.listen_host, ec);
    if (ec) {
        std::fprintf(stderr, "notifier-forum: --listen: \"%s\" is not an IP address\n", o.listen_host.c_str());
        exit_code = 2;
        return std::nullopt;
    }
    // Anyone who can reach the port may read and change every forum through
    // the API, tokens or not.
    if (!addr.is_loopback() && !insecure) {
        std::fprintf(stderr, "notifier-forum: refusing to listen on %s: the demo's API has no authentication "
                             "(pass --insecure to do it anyway)\n", o.listen_host.c_str());
        exit_code = 2;
        return std::nullopt;
    }
    o.poll_interval = std::chrono::milliseconds(poll_ms);
    return o;
}

notifier::options hub_options(const forum_options& cfg, notifier::http_handler api) {
    notifier::options o;
    o.listen_host = cfg.listen_host;
    o.listen_port = cfg.listen_port;
    o.static_dir = cfg.static_dir;
    o.app_routes = std::move(api);
    o.publish_endpoint = false;
    o.builtin_page = false;
    o.jwt_secret = cfg.jwt_secret;
    o.tls_cert_file = cfg.tls_cert_file;
    o.tls_key_file = cfg.tls_key_file;
    return o;
}

}  // namespace forum
