#include "config.hpp"

#include <CLI/CLI.hpp>

#include <charconv>

namespace notifierd {

namespace {

// "HOST:PORT", "[v6]:PORT" or ":PORT".
bool split_listen(const std::string& s, std::string& host, std::uint16_t& port) {
    const auto colon = s.rfind(':');
    if (colon == std::string::npos) return false;
    host = s.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    if (host.empty()) host = "0.0.0.0";
    const auto p = std::string_view(s).substr(colon + 1);
    unsigned v = 0;
    auto r = std::from_chars(p.data(), p.data() + p.size(), v);
    if (p.empty() || r.ec != std::errc{} || r.ptr != p.data() + p.size() || v > 65535) return false;
    port = static_cast<std::uint16_t>(v);
    return true;
}

}  // namespace

std::optional<notifier::options> parse_config(int argc, char** argv, int& exit_code) {
    notifier::options o;
    o.handle_signals = true;
    CLI::App app{"notifierd: real-time change notifications over WebSocket (protocol v1, see docs/protocol.md)"};
    app.get_formatter()->column_width(36);

    std::string listen = "127.0.0.1:8080";
    std::size_t history = o.history_size, max_queue = o.max_queue_bytes, max_message = o.max_message_bytes,
                max_publish = o.max_publish_bytes, max_header = o.max_header_bytes, max_subs = o.max_subscriptions;
    long ping = o.ping_interval.count(), handshake = o.handshake_timeout.count(), close_t = o.close_timeout.count();

    app.add_option("--listen", listen, "address to listen on, HOST:PORT (port 0 picks one)")->capture_default_str();
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

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        exit_code = app.exit(e);
        return std::nullopt;
    }
    if (!split_listen(listen, o.listen_host, o.listen_port)) {
        std::fprintf(stderr, "notifierd: --listen: expected HOST:PORT, got \"%s\"\n", listen.c_str());
        exit_code = 2;
        return std::nullopt;
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
    return o;
}

}  // namespace notifierd
