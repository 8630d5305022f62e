#include "config.hpp"

#include <notifier/options.hpp>

#include <CLI/CLI.hpp>
#include <boost/asio/ip/address.hpp>

#include <fstream>
#include <iterator>


namespace notifierd {


std::optional<config> parse_config(int argc, char** argv, int& exit_code) {
    notifier::options o;
    std::string redis_url;
    o.handle_signals = true;
    CLI::App app{"notifierd: real-time change notifications over WebSocket (protocol v1, see docs/protocol.md)"};
    app.get_formatter()->column_width(36);

    std::string listen = "127.0.0.1:8080";
    std::size_t history = o.history_size, max_queue = o.max_queue_bytes, max_message = o.max_message_bytes,
                max_publish = o.max_publish_bytes, max_header = o.max_header_bytes, max_subs = o.max_subscriptions;
    long ping = o.ping_interval.count(), handshake = o.handshake_timeout.count(), close_t = o.close_timeout.count();

    app.add_option("--listen", listen, "address to listen on, HOST:PORT (port 0 picks one)")->capture_default_str();
    app.add_option("--redis", redis_url,
                   "redis://HOST[:PORT][/PREFIX]: share seq and history with every node on that Redis (default: in memory)")
        ->envname("NOTIFIER_REDIS");
    app.add_option("--static-dir", o.static_dir, "directory served at / (default: built-in live page)");
    app.add_option("--history", history, "notifications kept for resume")->capture_default_str()->check(CLI::Range(1ul, 100'000'000ul));
    app.add_option("--max-queue-bytes", max_queue, "per-connection outbound queue; above it: close 4008")
        ->capture_default_str()->check(CLI::Range(1024ul, 1ul << 34));
    app.add_option("--ping-interval", ping, "seconds between server pings; 0 disables")->capture_default_str()->check(CLI::Range(0l, 86400l));
    app.add_option("--max-message-bytes", max_message, "largest client message; above it: close 1009")
        ->capture_default_str()->check(CLI::Range(128ul, 1ul << 30));
    app.add_option("--max-publish-bytes", max_publish, "largest POST /publish body; above it: 413")
        ->capture_default_str()->check(CLI::Range(128ul, 1ul << 34));
    app.add_option("--max-header-bytes", max_header, "largest HTTP request header; above it: 431")
        ->capture_default_str()->check(CLI::Range(512ul, 1ul << 20));
    app.add_option("--max-subscriptions", max_subs, "subscription entries per connection")->capture_default_str()->check(CLI::Range(1ul, 1ul << 20));
    app.add_option("--handshake-timeout", handshake, "seconds a connection may take to send its HTTP request")
        ->capture_default_str()->check(CLI::Range(1l, 3600l));
    app.add_option("--close-timeout", close_t, "seconds a closing connection may take to answer")
        ->capture_default_str()->check(CLI::Range(1l, 3600l));

    std::string jwt_public_key_file, publish_keys_file;
    bool insecure = false;
    std::size_t max_conns = o.max_connections, max_conns_ip = o.max_connections_per_ip, burst = o.message_burst;
    auto* sec = app.add_option_group("Security", "see docs/security.md");
    sec->add_option("--jwt-secret", o.jwt_secret, "HS256 secret for subscriber tokens (or env NOTIFIER_JWT_SECRET)")
        ->envname("NOTIFIER_JWT_SECRET");
    sec->add_option("--jwt-public-key", jwt_public_key_file, "PEM public key file: RS256 (RSA) or ES256 (P-256) tokens")
        ->check(CLI::ExistingFile);
    sec->add_option("--jwt-issuer", o.jwt_issuer, "required iss claim (default: not checked)");
    sec->add_option("--jwt-audience", o.jwt_audience, "required aud claim (default: not checked)");
    sec->add_option("--publish-key", o.publish_keys, "key required as Authorization: Bearer on POST /publish; repeatable");
    sec->add_option("--publish-keys-file", publish_keys_file, "file with one publish key per line (or env NOTIFIER_PUBLISH_KEYS_FILE)")
        ->envname("NOTIFIER_PUBLISH_KEYS_FILE")->check(CLI::ExistingFile);
    sec->add_option("--allow-origin", o.allowed_origins, "browser origin allowed besides the server's own, e.g. https://app.example; repeatable");
    sec->add_flag("--insecure", insecure, "allow a non-loopback --listen without any authentication");
    sec->add_option("--max-connections", max_conns, "open connections in total")->capture_default_str();
    sec->add_option("--max-connections-per-ip", max_conns_ip, "open connections per client IP (loopback exempt)")->capture_default_str();
    sec->add_flag("--limit-loopback", o.limit_loopback, "apply the per-IP limit to loopback clients too");
    sec->add_option("--max-messages-per-second", o.max_messages_per_second, "client messages per second per connection")
        ->capture_default_str()->check(CLI::PositiveNumber);
    sec->add_option("--message-burst", burst, "client message burst; that many refusals in a row close with 1008")
        ->capture_default_str()->check(CLI::Range(1ul, 1ul << 20));

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        exit_code = app.exit(e);
        return std::nullopt;
    }
    if (!notifier::parse_listen_address(listen, o.listen_host, o.listen_port)) {
        std::fprintf(stderr, "notifierd: --listen: expected HOST:PORT, got \"%s\"\n", listen.c_str());
        exit_code = 2;
        return std::nullopt;
    }
    if (o.listen_host.empty()) o.listen_host = "0.0.0.0";  // ":PORT": every interface
    auto read_file = [](const std::string& path, std::string& out) {
        std::ifstream f(path, std::ios::binary);
        if (!f) return false;
        out.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
        return true;
    };
    if (!jwt_public_key_file.empty() && !read_file(jwt_public_key_file, o.jwt_public_key_pem)) {
        std::fprintf(stderr, "notifierd: --jwt-public-key: cannot read %s\n", jwt_public_key_file.c_str());
        exit_code = 2;
        return std::nullopt;
    }
    if (!o.jwt_secret.empty() && !o.jwt_public_key_pem.empty()) {
        std::fprintf(stderr, "notifierd: use either --jwt-secret (HS256) or --jwt-public-key (RS256/ES256), not both\n");
        exit_code = 2;
        return std::nullopt;
    }
    if (!publish_keys_file.empty()) {
        std::ifstream f(publish_keys_file);
        for (std::string line; std::getline(f, line);) {
            while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
            if (!line.empty() && line.front() != '#') o.publish_keys.push_back(line);
        }
    }
    for (const auto& k : o.publish_keys) {
        if (k.size() < 16) {
            std::fprintf(stderr, "notifierd: publish keys must be at least 16 characters\n");
            exit_code = 2;
            return std::nullopt;
        }
    }
    o.max_connections = max_conns;
    o.max_connections_per_ip = max_conns_ip;
    o.message_burst = burst;
    // Safe defaults: without any authentication, stay on loopback unless told.
    const bool any_auth = !o.jwt_secret.empty() || !o.jwt_public_key_pem.empty() || !o.publish_keys.empty();
    const bool subscribers_auth = !o.jwt_secret.empty() || !o.jwt_public_key_pem.empty();
    if (any_auth && (subscribers_auth != !o.publish_keys.empty()))
        std::fprintf(stderr, "notifierd: WARNING: %s\n",
                     subscribers_auth ? "no --publish-key: anyone who can reach the server may publish"
                                      : "no --jwt-secret/--jwt-public-key: anyone who can reach the server may subscribe");
    if (!any_auth) {
        boost::system::error_code ec;
        const auto addr = boost::asio::ip::make_address(o.listen_host, ec);
        const bool loopback = !ec && addr.is_loopback();
        if (!loopback && !insecure) {
            std::fprintf(stderr,
                         "notifierd: refusing to listen on %s without authentication: set --jwt-secret or "
                         "--jwt-public-key and --publish-key, or pass --insecure\n",
                         o.listen_host.c_str());
            exit_code = 2;
            return std::nullopt;
        }
        std::fprintf(stderr,
                     "notifierd: WARNING: running WITHOUT AUTHENTICATION: anyone who can reach %s may "
                     "subscribe to everything and publish\n",
                     o.listen_host.c_str());
    }
    o.history_size = history;
    o.max_queue_bytes = max_queue;
    o.max_message_bytes = max_message;
    o.max_publish_bytes = max_publish;
    o.max_header_bytes = max_header;
    o.max_subscriptions = max_subs;
    o.ping_interval = std::chrono::seconds(ping);
    o.handshake_timeout = std::chrono::seconds(handshake);
    o.close_timeout = std::chrono::seconds(close_t);
    return config{std::move(o), std::move(redis_url)};
}

}  // namespace notifierd
