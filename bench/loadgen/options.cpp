// SPDX-License-Identifier: MIT
#include "options.hpp"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

namespace loadgen {

const char* protocol_name(protocol_kind p) noexcept {
    switch (p) {
        case protocol_kind::notifier: return "notifier";
        case protocol_kind::ws: return "ws";
        case protocol_kind::socketio: return "socketio";
        case protocol_kind::sse: return "sse";
    }
    return "?";
}

void print_help() {
    const options d;
    std::printf(
        "usage: notifier-loadgen [options]\n"
        "\n"
        "Fan-out load generator: N WebSocket (or Server-Sent Events) clients receive\n"
        "what M HTTP publishers POST; reports delivery rate, loss, ordering and\n"
        "end-to-end latency.\n"
        "Prints a human summary on stderr and one JSON line on stdout.\n"
        "\n"
        "Target:\n"
        "  --url URL                WebSocket URL (default %s), wss:// for TLS; with --protocol sse\n"
        "                           an http(s)://.../sse URL, or a ws(s):// one taken as http(s):// with /ws -> /sse\n"
        "  --publish-url URL        publish endpoint, https:// for TLS (default http://<host:port of --url>/publish,\n"
        "                           https:// when --url is wss:// or https://)\n"
        "  --protocol P             notifier | sse | ws | socketio (default %s)\n"
        "                           notifier: notifierd frames with \"seq\", first frame is welcome\n"
        "                           sse:      notifierd's GET /sse stream (chunked text/event-stream),\n"
        "                                     a notification per event, first event welcome\n"
        "                           ws:       every text message is a notification\n"
        "                           socketio: Engine.IO 4 / Socket.IO 5 at\n"
        "                                     /socket.io/?EIO=4&transport=websocket on the host:port of --url\n"
        "\n"
        "TLS (wss:// and https:// URLs; ws:// and http:// stay plain TCP):\n"
        "  --tls-ca FILE            verify the server's certificate against this CA or self-signed\n"
        "                           certificate (PEM) and its name or IP address against the URL's host;\n"
        "                           without it the server is NOT verified (a benchmark tool, not a client\n"
        "                           to trust with secrets) (default none)\n"
        "  --tls-version V          1.2 or 1.3: accept only that version (default: 1.2 or later)\n"
        "                           The handshake counts into --connect-timeout and --connect-concurrency.\n"
        "\n"
        "Fan-out mode:\n"
        "  --clients N              receiving clients (default %d)\n"
        "  --publishers M           keep-alive HTTP connections posting, one request in flight each (default %d)\n"
        "  --rate R                 target deliveries/s in total, publish rate = R / clients (with\n"
        "                           --spread K: R / the clients a publish reaches, clients / K);\n"
        "                           0 = publish as fast as the server accepts (default %g)\n"
        "  --duration S             seconds of publishing after every client is connected (default %g)\n"
        "  --drain S                max seconds to wait for outstanding deliveries afterwards (default %g)\n"
        "  --stalled K              extra clients that connect and then never read (default %d)\n"
        "  --stalled-rcvbuf BYTES   SO_RCVBUF of the stalled clients (default %d)\n"
        "  --expect-status CODE     publish answer counted as accepted (default %d)\n"
        "  --collection NAME        collection of every publish (default %s)\n"
        "  --spread K               publish n goes to forum f = n mod K: \"id\":\"f\" and data.forum_id f;\n"
        "                           client i belongs to forum i mod K and expects only its forum's\n"
        "                           publishes; --rate stays deliveries/s (default %d = off: every\n"
        "                           client expects every publish)\n"
        "  --spread-old D           publishes also carry \"old\":{\"forum_id\":(n+D) mod K}, a post that\n"
        "                           moved: clients of both forums expect it; needs a filtered\n"
        "                           --subscribe-template (default %d = off)\n"
        "  --subscribe-template T   each receiving client opens /ws?collections=T (/sse?... with sse; percent-encoded),\n"
        "                           {i} replaced by its forum with --spread, else by its index, e.g.\n"
        "                           'posts[forum_id={i}]' or 'posts/{i}'; seq is then checked to grow,\n"
        "                           not to grow by one (default none: the implicit \"*\")\n"
        "\n"
        "Idle mode (no publishing):\n"
        "  --idle N                 open N connections and report server RSS per connection (default %d = off)\n"
        "  --settle S               seconds to wait before the second RSS sample (default %g)\n"
        "\n"
        "Both modes:\n"
        "  --server-pid PID         server process to sample (RSS, CPU time); required with --idle (default none)\n"
        "  --connect-concurrency N  handshakes (or stream requests) in flight (default %d)\n"
        "  --connect-timeout S      per-connection handshake timeout (default %g)\n"
        "  --rx-batch-us US         let data collect for at least US microseconds between two receive\n"
        "                           rounds: fewer, larger reads (less CPU taken from the server) at the\n"
        "                           price of up to US of added latency; 0 = read eagerly (default %d)\n"
        "  --rx-threads N           receiving threads, each reading its share of the clients on its own\n"
        "                           epoll set, so that the load generator is not the limit on a large\n"
        "                           machine; first_client_latency_us needs 1 (default %d)\n"
        "  --quiet                  no progress lines on stderr, only the summary (default off)\n"
        "  --help                   this text\n"
        "\n"
        "Exit status: 0 done, 1 could not connect, 2 bad arguments.\n",
        d.url.c_str(), protocol_name(d.protocol), d.clients, d.publishers, d.rate,
        d.duration_s, d.drain_s, d.stalled, d.stalled_rcvbuf, d.expect_status, d.collection.c_str(), d.spread,
        d.spread_old, d.idle,
        d.settle_s, d.connect_concurrency, d.connect_timeout_s, d.rx_batch_us, d.rx_threads);
}

namespace {

bool to_int(std::string_view name, const char* v, int lo, int hi, int& out) {
    errno = 0;
    char* end = nullptr;
    long x = std::strtol(v, &end, 10);
    if (errno != 0 || end == v || *end != '\0' || x < lo || x > hi) {
        std::fprintf(stderr, "notifier-loadgen: %.*s: expected an integer in [%d, %d], got '%s'\n",
                     int(name.size()), name.data(), lo, hi, v);
        return false;
    }
    out = int(x);
    return true;
}

bool to_double(std::string_view name, const char* v, double lo, double hi, double& out) {
    errno = 0;
    char* end = nullptr;
    double x = std::strtod(v, &end);
    if (errno != 0 || end == v || *end != '\0' || !std::isfinite(x) || x < lo || x > hi) {
        std::fprintf(stderr, "notifier-loadgen: %.*s: expected a number in [%g, %g], got '%s'\n",
                     int(name.size()), name.data(), lo, hi, v);
        return false;
    }
    out = x;
    return true;
}

bool valid_collection(const std::string& c) {
    if (c.empty() || c.size() > 128) return false;
    for (char ch : c)
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' ||
              ch == '.' || ch == ':' || ch == '-'))
            return false;
    return true;
}

}  // namespace

parse_outcome parse_options(int argc, char** argv, options& o) {
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        if (arg == "--help" || arg == "-h") return parse_outcome::help;
        if (arg == "--quiet") {
            o.quiet = true;
            continue;
        }
        if (arg.substr(0, 2) != "--") {
            std::fprintf(stderr, "notifier-loadgen: unexpected argument '%s' (see --help)\n", argv[i]);
            return parse_outcome::error;
        }
        // Accept both "--name value" and "--name=value".
        std::string_view name = arg;
        const char* value = nullptr;
        if (auto eq = arg.find('='); eq != std::string_view::npos) {
            name = arg.substr(0, eq);
            value = argv[i] + eq + 1;
        } else if (i + 1 < argc) {
            value = argv[++i];
        } else {
            std::fprintf(stderr, "notifier-loadgen: %s needs a value\n", argv[i]);
            return parse_outcome::error;
        }

        bool ok = true;
        if (name == "--url") o.url = value;
        else if (name == "--publish-url") o.publish_url = value;
        else if (name == "--protocol") {
            std::string_view v = value;
            if (v == "notifier") o.protocol = protocol_kind::notifier;
            else if (v == "ws") o.protocol = protocol_kind::ws;
            else if (v == "socketio") o.protocol = protocol_kind::socketio;
            else if (v == "sse") o.protocol = protocol_kind::sse;
            else {
                std::fprintf(stderr, "notifier-loadgen: --protocol: expected notifier, sse, ws or socketio, got '%s'\n", value);
                ok = false;
            }
        }
        else if (name == "--clients") ok = to_int(name, value, 1, 1'000'000, o.clients);
        else if (name == "--publishers") ok = to_int(name, value, 1, 1024, o.publishers);
        else if (name == "--rate") ok = to_double(name, value, 0, 1e12, o.rate);
        else if (name == "--duration") ok = to_double(name, value, 0.001, 1e7, o.duration_s);
        else if (name == "--drain") ok = to_double(name, value, 0, 1e7, o.drain_s);
        else if (name == "--stalled") ok = to_int(name, value, 0, 1'000'000, o.stalled);
        else if (name == "--stalled-rcvbuf") ok = to_int(name, value, 1, 1 << 30, o.stalled_rcvbuf);
        else if (name == "--idle") ok = to_int(name, value, 0, 10'000'000, o.idle);
        else if (name == "--settle") ok = to_double(name, value, 0, 1e7, o.settle_s);
        else if (name == "--server-pid") ok = to_int(name, value, 1, 1 << 30, o.server_pid);
        else if (name == "--connect-concurrency") ok = to_int(name, value, 1, 1'000'000, o.connect_concurrency);
        else if (name == "--connect-timeout") ok = to_double(name, value, 0.001, 1e6, o.connect_timeout_s);
        else if (name == "--rx-batch-us") ok = to_int(name, value, 0, 1'000'000, o.rx_batch_us);
        else if (name == "--rx-threads") ok = to_int(name, value, 1, 256, o.rx_threads);
        else if (name == "--expect-status") ok = to_int(name, value, 100, 599, o.expect_status);
        else if (name == "--collection") {
            o.collection = value;
            ok = valid_collection(o.collection);
            if (!ok)
                std::fprintf(stderr, "notifier-loadgen: --collection: expected [A-Za-z0-9_.:-]{1,128}, got '%s'\n", value);
        }
        else if (name == "--spread") ok = to_int(name, value, 0, 10'000'000, o.spread);
        else if (name == "--spread-old") ok = to_int(name, value, 0, 10'000'000, o.spread_old);
        else if (name == "--subscribe-template") o.subscribe_template = value;
        else if (name == "--tls-ca") {
            o.tls_ca = value;
            ok = !o.tls_ca.empty();
            if (!ok) std::fprintf(stderr, "notifier-loadgen: --tls-ca: expected a file name\n");
        }
        else if (name == "--tls-version") {
            std::string_view v = value;
            if (v == "1.2") o.tls_version = 12;
            else if (v == "1.3") o.tls_version = 13;
            else {
                std::fprintf(stderr, "notifier-loadgen: --tls-version: expected 1.2 or 1.3, got '%s'\n", value);
                ok = false;
            }
        }
        else {
            std::fprintf(stderr, "notifier-loadgen: unknown option '%.*s' (see --help)\n",
                         int(name.size()), name.data());
            ok = false;
        }
        if (!ok) return parse_outcome::error;
    }
    if (o.spread_old > 0 && (o.spread == 0 || o.spread_old >= o.spread)) {
        std::fprintf(stderr, "notifier-loadgen: --spread-old needs --spread K and a value below K\n");
        return parse_outcome::error;
    }
    // A record topic (posts/{i}) never sees a post that left it: only a
    // filter reads old, so the expectations would be wrong.
    if (o.spread_old > 0 && o.subscribe_template.find('[') == std::string::npos) {
        std::fprintf(stderr, "notifier-loadgen: --spread-old needs a filtered --subscribe-template\n");
        return parse_outcome::error;
    }
    if (!o.subscribe_template.empty() && o.protocol != protocol_kind::notifier && o.protocol != protocol_kind::sse) {
        std::fprintf(stderr, "notifier-loadgen: --subscribe-template needs --protocol notifier or sse\n");
        return parse_outcome::error;
    }
    if (o.idle > 0 && o.server_pid == 0) {
        std::fprintf(stderr, "notifier-loadgen: --idle needs --server-pid\n");
        return parse_outcome::error;
    }
    return parse_outcome::run;
}

}  // namespace loadgen
