// SPDX-License-Identifier: MIT
#include "report.hpp"

#include <cmath>
#include <cstdio>

namespace loadgen {

namespace {

// Only our own fixed strings and server-provided error text end up here;
// escape what JSON requires and drop other control characters.
std::string json_string(const std::string& s) {
    std::string out = "\"";
    for (unsigned char c : s) {
        if (c == '"' || c == '\\') {
            out.push_back('\\');
            out.push_back(char(c));
        } else if (c == '\n') {
            out += "\\n";
        } else if (c >= 0x20) {
            out.push_back(char(c));
        }
    }
    out.push_back('"');
    return out;
}

std::string codes_json(const std::map<int, int>& codes) {
    std::string out = "{";
    for (auto& [code, count] : codes) {
        if (out.size() > 1) out += ",";
        out += '"';
        out += std::to_string(code);
        out += "\":";
        out += std::to_string(count);
    }
    return out + "}";
}

std::string codes_text(const std::map<int, int>& codes) {
    std::string out;
    for (auto& [code, count] : codes) {
        if (!out.empty()) out += ", ";
        out += std::to_string(code) + " x" + std::to_string(count);
    }
    return out.empty() ? "none" : out;
}

std::string num_or_null(double v, const char* fmt) {
    if (std::isnan(v)) return "null";
    char buf[64];
    std::snprintf(buf, sizeof buf, fmt, v);
    return buf;
}

std::string human(double v) {
    char buf[32];
    if (v >= 1e9) std::snprintf(buf, sizeof buf, "%.2fG", v / 1e9);
    else if (v >= 1e6) std::snprintf(buf, sizeof buf, "%.2fM", v / 1e6);
    else if (v >= 1e4) std::snprintf(buf, sizeof buf, "%.1fk", v / 1e3);
    else std::snprintf(buf, sizeof buf, "%.0f", v);
    return buf;
}

std::string arrival_json(const report& r) {
    if (r.arrival_samples == 0) return "null";
    char buf[200];
    std::snprintf(buf, sizeof buf, "{\"samples\":%llu,\"p50\":%llu,\"p90\":%llu,\"p99\":%llu,\"p999\":%llu,\"max\":%llu}",
                  (unsigned long long)r.arrival_samples, (unsigned long long)r.arrival_p50_us,
                  (unsigned long long)r.arrival_p90_us, (unsigned long long)r.arrival_p99_us,
                  (unsigned long long)r.arrival_p999_us, (unsigned long long)r.arrival_max_us);
    return buf;
}

// The fields added with --spread and --subscribe-template, and bytes_received,
// at the end of the line so that readers of the older fields see the same object.
std::string spread_json(const report& r) {
    char buf[1024];
    std::snprintf(buf, sizeof buf,
                  "\"collection\":%s,\"subscribe_template\":%s,\"spread\":%d,\"spread_old\":%d,"
                  "\"seq_check\":%s,\"publish_rate_target\":%.17g,\"unexpected\":%llu,"
                  "\"client_expected_min\":%llu,\"client_expected_max\":%llu,\"bytes_received\":%llu",
                  r.collection.empty() ? "null" : json_string(r.collection).c_str(),
                  r.subscribe_template.empty() ? "null" : json_string(r.subscribe_template).c_str(), r.spread,
                  r.spread_old, json_string(r.seq_check).c_str(), r.publish_rate_target,
                  (unsigned long long)r.unexpected, (unsigned long long)r.client_expected_min,
                  (unsigned long long)r.client_expected_max, (unsigned long long)r.bytes_received);
    return buf;
}

std::string session_json(const tls_session& s) {
    if (s.version.empty()) return "null";
    return "{\"version\":" + json_string(s.version) + ",\"cipher\":" + json_string(s.cipher) + "}";
}

// "tls": null over plain TCP; else each side's negotiated version and
// cipher (null for a side that is plain) and whether the server was
// verified. At the end of the line, as the spread fields.
std::string tls_json(const report& r) {
    if (r.tls_subscribers.version.empty() && r.tls_publishers.version.empty()) return "\"tls\":null";
    return "\"tls\":{\"subscribers\":" + session_json(r.tls_subscribers) +
           ",\"publishers\":" + session_json(r.tls_publishers) +
           ",\"verified\":" + (r.tls_verified ? "true" : "false") + "}";
}

std::string session_text(const tls_session& s) {
    return s.version.empty() ? "plain TCP" : s.version + " " + s.cipher;
}

}  // namespace

void print_json(const report& r) {
    const bool lat = r.latency_samples > 0;
    auto latv = [&](std::uint64_t v) { return lat ? std::to_string(v) : std::string("null"); };
    std::printf(
        "{\"mode\":%s,\"protocol\":%s,\"clients\":%d,\"publishers\":%d,\"rate_target\":%.17g,"
        "\"rx_batch_us\":%d,\"duration_s\":%.17g,\"publish_window_s\":%.6f,\"drain_s\":%.6f,"
        "\"sent\":%llu,\"published\":%llu,\"publish_errors\":%llu,\"first_publish_error\":%s,"
        "\"expected\":%llu,\"delivered\":%llu,\"deliveries_per_s\":%.1f,\"lost\":%llu,"
        "\"client_delivered_min\":%llu,\"client_delivered_max\":%llu,"
        "\"duplicates\":%llu,\"out_of_order\":%llu,\"seq_errors\":%llu,\"unparsed\":%llu,\"resyncs\":%llu,"
        "\"latency_us\":{\"samples\":%llu,\"p50\":%s,\"p90\":%s,\"p99\":%s,\"p999\":%s,\"max\":%s},"
        "\"first_client_latency_us\":{\"p50\":%s,\"p99\":%s},"
        "\"arrival_latency_us\":%s,"
        "\"clients_closed\":%d,\"client_close_codes\":%s,\"clients_failed\":%d,\"first_client_failure\":%s,"
        "\"stalled\":%d,\"stalled_closed\":%d,\"stalled_close_frames\":%d,\"stalled_close_codes\":%s,"
        "\"stalled_messages\":%llu,"
        "\"server_rss_kib\":%s,\"server_cpu_s\":%s,\"loadgen_cpu_s\":%s,"
        "\"idle_connections\":%d,\"idle_rss_before_kib\":%s,\"idle_rss_after_kib\":%s,"
        "\"idle_rss_per_conn_bytes\":%s,%s,%s}\n",
        json_string(r.mode).c_str(), json_string(r.protocol).c_str(), r.clients, r.publishers, r.rate_target,
        r.rx_batch_us, r.duration_s, r.publish_window_s, r.drain_s, (unsigned long long)r.sent,
        (unsigned long long)r.published, (unsigned long long)r.publish_errors,
        r.first_publish_error.empty() ? "null" : json_string(r.first_publish_error).c_str(),
        (unsigned long long)r.expected, (unsigned long long)r.delivered, r.deliveries_per_s,
        (unsigned long long)r.lost, (unsigned long long)r.client_min, (unsigned long long)r.client_max,
        (unsigned long long)r.duplicates, (unsigned long long)r.out_of_order,
        (unsigned long long)r.seq_errors, (unsigned long long)r.unparsed, (unsigned long long)r.resyncs,
        (unsigned long long)r.latency_samples, latv(r.p50_us).c_str(), latv(r.p90_us).c_str(),
        latv(r.p99_us).c_str(), latv(r.p999_us).c_str(), latv(r.max_us).c_str(), (r.first_known ? latv(r.first_p50_us) : std::string("null")).c_str(),
        (r.first_known ? latv(r.first_p99_us) : std::string("null")).c_str(), arrival_json(r).c_str(), r.clients_closed,
        codes_json(r.client_close_codes).c_str(), r.clients_failed,
        r.first_client_failure.empty() ? "null" : json_string(r.first_client_failure).c_str(), r.stalled,
        r.stalled_closed, r.stalled_close_frames, codes_json(r.stalled_close_codes).c_str(),
        (unsigned long long)r.stalled_messages, num_or_null(r.server_rss_kib < 0 ? NAN : double(r.server_rss_kib), "%.0f").c_str(),
        num_or_null(r.server_cpu_s, "%.3f").c_str(), num_or_null(r.loadgen_cpu_s, "%.3f").c_str(),
        r.idle_connections, num_or_null(r.idle_rss_before_kib < 0 ? NAN : double(r.idle_rss_before_kib), "%.0f").c_str(),
        num_or_null(r.idle_rss_after_kib < 0 ? NAN : double(r.idle_rss_after_kib), "%.0f").c_str(),
        num_or_null(r.idle_rss_per_conn_bytes, "%.1f").c_str(), spread_json(r).c_str(), tls_json(r).c_str());
    std::fflush(stdout);
}

void print_summary(const report& r) {
    FILE* o = stderr;
    const bool tls = !r.tls_subscribers.version.empty() || !r.tls_publishers.version.empty();
    if (r.mode == "idle") {
        std::fprintf(o, "notifier-loadgen idle: %s, %d connections\n", r.protocol.c_str(), r.idle_connections);
        if (tls)
            std::fprintf(o, "  tls         %s, server %s\n", session_text(r.tls_subscribers).c_str(),
                         r.tls_verified ? "verified" : "NOT verified");
        std::fprintf(o, "  server RSS  %ld KiB before, %ld KiB after -> %.0f bytes per connection\n",
                     r.idle_rss_before_kib, r.idle_rss_after_kib, r.idle_rss_per_conn_bytes);
        return;
    }
    std::fprintf(o, "notifier-loadgen: %s, %d clients", r.protocol.c_str(), r.clients);
    if (r.stalled > 0) std::fprintf(o, " (+%d stalled)", r.stalled);
    std::fprintf(o, ", %d publishers, ", r.publishers);
    if (r.rate_target > 0) std::fprintf(o, "target %s deliveries/s", human(r.rate_target).c_str());
    else std::fprintf(o, "unpaced");
    std::fprintf(o, ", %.1f s\n", r.duration_s);
    if (tls)
        std::fprintf(o, "  tls         subscribers %s, publishers %s, server %s\n",
                     session_text(r.tls_subscribers).c_str(), session_text(r.tls_publishers).c_str(),
                     r.tls_verified ? "verified" : "NOT verified");

    const double win = r.publish_window_s > 0 ? r.publish_window_s : r.duration_s;
    std::fprintf(o, "  published   %llu accepted (%s/s", (unsigned long long)r.published,
                 human(double(r.published) / win).c_str());
    if (r.publish_rate_target > 0)
        std::fprintf(o, " of %s/s targeted", human(r.publish_rate_target).c_str());
    std::fprintf(o, "), %llu errors\n", (unsigned long long)r.publish_errors);
    if (!r.first_publish_error.empty())
        std::fprintf(o, "              first error: %s\n", r.first_publish_error.c_str());
    std::fprintf(o, "  delivered   %llu of %llu expected (%s/s), lost %llu, duplicates %llu, out of order %llu",
                 (unsigned long long)r.delivered, (unsigned long long)r.expected,
                 human(r.deliveries_per_s).c_str(), (unsigned long long)r.lost,
                 (unsigned long long)r.duplicates, (unsigned long long)r.out_of_order);
    if (r.protocol == "notifier" || r.protocol == "sse")
        std::fprintf(o, ", seq errors %llu", (unsigned long long)r.seq_errors);
    std::fprintf(o, "\n");
    if (r.spread > 0 || !r.subscribe_template.empty()) {
        std::fprintf(o, "              collection %s, subscriptions %s", r.collection.c_str(),
                     r.subscribe_template.empty() ? "the implicit *" : r.subscribe_template.c_str());
        if (r.spread > 0) std::fprintf(o, ", spread over %d forums%s", r.spread, r.spread_old > 0 ? " (with old)" : "");
        std::fprintf(o, "; %llu to %llu expected per client, %llu of another forum\n",
                     (unsigned long long)r.client_expected_min, (unsigned long long)r.client_expected_max,
                     (unsigned long long)r.unexpected);
    }
    if (r.client_min != r.client_max)
        std::fprintf(o, "              per client: %llu to %llu distinct notifications\n",
                     (unsigned long long)r.client_min, (unsigned long long)r.client_max);
    if (r.unparsed > 0 || r.resyncs > 0)
        std::fprintf(o, "              %llu messages without t/n, %llu resyncs\n", (unsigned long long)r.unparsed,
                     (unsigned long long)r.resyncs);
    if (r.latency_samples > 0)
        std::fprintf(o, "  latency us  p50 %llu  p90 %llu  p99 %llu  p99.9 %llu  max %llu\n",
                     (unsigned long long)r.p50_us, (unsigned long long)r.p90_us, (unsigned long long)r.p99_us,
                     (unsigned long long)r.p999_us, (unsigned long long)r.max_us);
    if (r.latency_samples > 0 && r.mode == "fanout")
        std::fprintf(o, "  first client  p50 %llu  p99 %llu (publish to the first of the clients; the rest is fan-out spread)\n",
                     (unsigned long long)r.first_p50_us, (unsigned long long)r.first_p99_us);
    if (r.arrival_samples > 0)
        std::fprintf(o, "  arrival us  p50 %llu  p90 %llu  p99 %llu  p99.9 %llu  max %llu (kernel receive time on the client socket)\n",
                     (unsigned long long)r.arrival_p50_us, (unsigned long long)r.arrival_p90_us,
                     (unsigned long long)r.arrival_p99_us, (unsigned long long)r.arrival_p999_us,
                     (unsigned long long)r.arrival_max_us);
    std::fprintf(o, "  drain       %.2f s\n", r.drain_s);
    if (r.clients_closed > 0 || r.clients_failed > 0) {
        std::fprintf(o, "  clients     %d closed by the server (codes: %s), %d failed\n", r.clients_closed,
                     codes_text(r.client_close_codes).c_str(), r.clients_failed);
        if (!r.first_client_failure.empty())
            std::fprintf(o, "              first failure: %s\n", r.first_client_failure.c_str());
    }
    if (r.stalled > 0)
        std::fprintf(o, "  stalled     %d of %d closed by the server (codes: %s), %llu notifications still queued to them\n",
                     r.stalled_closed, r.stalled, codes_text(r.stalled_close_codes).c_str(),
                     (unsigned long long)r.stalled_messages);
    if (r.server_rss_kib >= 0 || !std::isnan(r.server_cpu_s))
        std::fprintf(o, "  server      peak RSS %ld KiB, CPU %.2f s (%.2f cores over publish+drain)\n",
                     r.server_rss_kib, r.server_cpu_s,
                     std::isnan(r.server_cpu_s) ? 0.0 : r.server_cpu_s / (win + r.drain_s));
    if (!std::isnan(r.loadgen_cpu_s))
        std::fprintf(o, "  loadgen     CPU %.2f s (%.2f cores)\n", r.loadgen_cpu_s,
                     r.loadgen_cpu_s / (win + r.drain_s));
}

}  // namespace loadgen
