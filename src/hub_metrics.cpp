// SPDX-License-Identifier: MIT
// GET /metrics: the hub's counters and gauges in the Prometheus text format.
// Every metric is listed with its meaning in docs/operations.md.

#include "core/metrics_text.hpp"
#include "hub_impl.hpp"

#include <algorithm>

namespace notifier {

std::string hub::impl::render_metrics(const std::vector<shard_snapshot>& snaps) const {
    using kind = core::metrics_text::kind;
    core::metrics_text m;
    const auto num = [](auto v) { return static_cast<double>(v); };

    // Every shard's snapshot, taken on its own loop, merged here: gauges that
    // sum over sessions are computed once per scrape, so that nothing is
    // maintained per delivery.
    shard_snapshot all;
    for (const auto& s : snaps) {
        all.sessions += s.sessions;
        all.sse_streams += s.sse_streams;
        all.subscriptions += s.subscriptions;
        all.queued_bytes += s.queued_bytes;
        all.backlog_bytes += s.backlog_bytes;
        for (const auto& [code, n] : s.closes_by_code) all.closes_by_code[code] += n;
        for (const auto& [code, n] : s.sse_closes_by_code) all.sse_closes_by_code[code] += n;
        for (const auto& [status, n] : s.publish_by_status) all.publish_by_status[status] += n;
        all.flush_duration.merge(s.flush_duration);
        all.fanout_latency.merge(s.fanout_latency);
    }
    const hub_stats totals = shard_totals();
    std::uint64_t ws_opened = 0, sse_opened = 0, tls_ok = 0, tls_kernel = 0, tls_failed = 0, tls_timeout = 0,
                  tls_plain = 0;
    for (const auto& sh : shards) {
        const auto& c = sh->counts();
        ws_opened += c.ws_opened.get();
        sse_opened += c.sse_opened.get();
        tls_ok += c.tls_ok.get();
        tls_kernel += c.tls_kernel.get();
        tls_failed += c.tls_failed.get();
        tls_timeout += c.tls_timeout.get();
        tls_plain += c.tls_plain_http.get();
    }
    m.gauge("notifier_connections_open", "Open connections, HTTP and WebSocket (counted against max_connections).",
            num(open_connections_.load(std::memory_order_relaxed)));
    m.counter("notifier_connections_accepted_total", "Connections accepted.", num(counts.accepted.get()));
    m.counter("notifier_connections_rejected_total",
              "Connections refused with 503 at max_connections or max_connections_per_ip.", num(counts.rejected.get()));
    m.gauge("notifier_websocket_sessions", "Open WebSocket sessions.", num(all.sessions - all.sse_streams));
    m.counter("notifier_websocket_opened_total", "WebSocket sessions opened (successful upgrades).",
              num(ws_opened));
    m.family("notifier_websocket_closed_total",
             "WebSocket sessions ended, by the close code sent or echoed (1006: no close handshake).", kind::counter);
    for (const auto& [code, n] : all.closes_by_code)
        m.sample(num(n), {{"code", code == 0 ? std::string("other") : std::to_string(code)}});
    m.gauge("notifier_sse_streams", "Open Server-Sent Events streams (GET /sse).", num(all.sse_streams));
    m.counter("notifier_sse_streams_opened_total", "Server-Sent Events streams started (200 answered).",
              num(sse_opened));
    m.family("notifier_sse_streams_closed_total",
             "Server-Sent Events streams ended, by the code of their close event (1006: the client went away).",
             kind::counter);
    for (const auto& [code, n] : all.sse_closes_by_code) m.sample(num(n), {{"code", std::to_string(code)}});
    m.family("notifier_tls_handshakes_total",
             "TLS handshakes on a TLS listener, by result: ok, failed (the client or OpenSSL gave up), timeout "
             "(handshake_timeout), plain_http (plain HTTP on the TLS port, answered 400 tls_required).",
             kind::counter);
    m.sample(num(tls_ok), {{"result", "ok"}});
    m.sample(num(tls_failed), {{"result", "failed"}});
    m.sample(num(tls_timeout), {{"result", "timeout"}});
    m.sample(num(tls_plain), {{"result", "plain_http"}});
    m.counter("notifier_tls_kernel_connections_total",
              "TLS connections whose sending side the kernel encrypts (kTLS, options::tls_kernel).", num(tls_kernel));
    m.family("notifier_tls_reloads_total", "Certificate reloads (SIGHUP, hub::reload_tls), by result.",
             kind::counter);
    m.sample(num(tls_reloads_ok.load(std::memory_order_relaxed)), {{"result", "ok"}});
    m.sample(num(tls_reloads_failed.load(std::memory_order_relaxed)), {{"result", "failed"}});
    m.counter("notifier_slow_consumer_closes_total", "Sessions closed with 4008 because their queue was full.",
              num(totals.slow_consumers));
    m.counter("notifier_auth_failures_total",
              "Subscriber tokens refused (upgrade or auth message) and POST /publish without a valid key.",
              num(totals.auth_failures));
    m.gauge("notifier_subscriptions", "Subscription entries over all sessions.", num(all.subscriptions));

    // Publishing and fan-out.
    m.counter("notifier_published_total", "Notifications published (dispatched by this node).",
              num(totals.published));
    m.gauge("notifier_last_seq", "Seq of the newest notification dispatched by this node.", num(totals.last_seq));
    m.counter("notifier_deliveries_total", "Notification frames queued to sessions (live and replayed).",
              num(totals.deliveries));
    m.counter("notifier_resyncs_total", "resync frames sent to sessions.", num(totals.resyncs));
    m.gauge("notifier_queued_bytes", "Bytes queued for sending over all sessions.", num(all.queued_bytes));
    m.gauge("notifier_fanout_backlog_bytes", "Bytes of notifications waiting to be fanned out.", num(all.backlog_bytes));
    m.gauge("notifier_shards", "Event loops serving connections (options::threads, --threads).", num(shards.size()));
    m.family("notifier_shard_sessions", "Open WebSocket sessions per shard.", kind::gauge);
    for (std::size_t i = 0; i < snaps.size(); ++i) m.sample(num(snaps[i].sessions), {{"shard", std::to_string(i)}});
    m.gauge("notifier_pending_notifications", "notify() calls waiting for the event loop.", num(inbox_.size()));
    m.family("notifier_publish_requests_total", "POST /publish requests, by HTTP status code of the answer.",
             kind::counter);
    for (const auto& [status, n] : all.publish_by_status) m.sample(num(n), {{"code", std::to_string(status)}});
    const auto& bounds = core::duration_histogram::bounds_seconds;
    m.histogram("notifier_fanout_latency_seconds",
                "From a live notification reaching this node to the end of the flush that wrote it to its "
                "subscribers' sockets.",
                bounds, all.fanout_latency.counts(), all.fanout_latency.sum_seconds());
    m.histogram("notifier_flush_duration_seconds", "Time to write every session with something queued, once.",
                bounds, all.flush_duration.counts(), all.flush_duration.sum_seconds());
    m.gauge("notifier_broker_up", "1 while the broker can publish, 0 while it cannot (e.g. Redis unreachable).",
            brk && brk->available() ? 1 : 0);

    // Change sources (hub::add_source_metrics).
    const auto sources_now = sources->read_all();
    m.family("notifier_source_up", "1 while the change source can read its database.", kind::gauge);
    for (const auto& [name, s] : sources_now) m.sample(s.connected ? 1 : 0, {{"source", name}});
    m.family("notifier_source_changes_total", "Changes the source emitted.", kind::counter);
    for (const auto& [name, s] : sources_now) m.sample(num(s.changes), {{"source", name}});
    m.family("notifier_source_errors_total", "Failures the source reported (and retried).", kind::counter);
    for (const auto& [name, s] : sources_now) m.sample(num(s.errors), {{"source", name}});
    m.family("notifier_source_lag_seconds", "Age of the oldest change the source has not emitted yet.", kind::gauge);
    for (const auto& [name, s] : sources_now) m.sample(s.lag_seconds, {{"source", name}});

    return m.str();
}

}  // namespace notifier
