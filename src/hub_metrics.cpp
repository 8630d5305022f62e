// GET /metrics: the hub's counters and gauges in the Prometheus text format.
// Every metric is listed with its meaning in docs/operations.md.

#include "core/metrics_text.hpp"
#include "hub_impl.hpp"
#include "net/websocket_session.hpp"

namespace notifier {

std::string hub::impl::render_metrics() {
    using kind = core::metrics_text::kind;
    core::metrics_text m;
    const auto num = [](auto v) { return static_cast<double>(v); };

    // Connections. Gauges that sum over sessions are computed here, once per
    // scrape, so that nothing is maintained per delivery.
    std::uint64_t subscriptions = 0, queued_bytes = 0;
    for (const auto& [_, s] : sessions_) {
        subscriptions += s->topics().size();
        queued_bytes += s->queued_bytes();
    }
    m.gauge("notifier_connections_open", "Open connections, HTTP and WebSocket (counted against max_connections).",
            num(open_connections_));
    m.counter("notifier_connections_accepted_total", "Connections accepted.", num(counts.accepted.get()));
    m.counter("notifier_connections_rejected_total",
              "Connections refused with 503 at max_connections or max_connections_per_ip.", num(counts.rejected.get()));
    m.gauge("notifier_websocket_sessions", "Open WebSocket sessions.", num(sessions_.size()));
    m.counter("notifier_websocket_opened_total", "WebSocket sessions opened (successful upgrades).",
              num(counts.ws_opened.get()));
    m.family("notifier_websocket_closed_total",
             "WebSocket sessions ended, by the close code sent or echoed (1006: no close handshake).", kind::counter);
    for (const auto& [code, n] : closes_by_code_)
        m.sample(num(n), {{"code", code == 0 ? std::string("other") : std::to_string(code)}});
    m.counter("notifier_slow_consumer_closes_total", "Sessions closed with 4008 because their queue was full.",
              num(counts.slow_consumers.get()));
    m.counter("notifier_auth_failures_total",
              "Subscriber tokens refused (upgrade or auth message) and POST /publish without a valid key.",
              num(counts.auth_failures.get()));
    m.gauge("notifier_subscriptions", "Subscription entries over all sessions.", num(subscriptions));

    // Publishing and fan-out.
    m.counter("notifier_published_total", "Notifications published (dispatched by this node).",
              num(counts.published.get()));
    m.gauge("notifier_last_seq", "Seq of the newest notification dispatched by this node.", num(last_dispatched));
    m.counter("notifier_deliveries_total", "Notification frames queued to sessions (live and replayed).",
              num(counts.deliveries.get()));
    m.counter("notifier_resyncs_total", "resync frames sent to sessions.", num(counts.resyncs.get()));
    m.gauge("notifier_queued_bytes", "Bytes queued for sending over all sessions.", num(queued_bytes));
    m.gauge("notifier_fanout_backlog_bytes", "Bytes of notifications waiting to be fanned out.", num(fanout_bytes_));
    m.gauge("notifier_pending_notifications", "notify() calls waiting for the event loop.", num(inbox_.size()));
    m.family("notifier_publish_requests_total", "POST /publish requests, by HTTP status code of the answer.",
             kind::counter);
    for (const auto& [status, n] : publish_by_status_) m.sample(num(n), {{"code", std::to_string(status)}});
    const auto& bounds = core::duration_histogram::bounds_seconds;
    m.histogram("notifier_fanout_latency_seconds",
                "From a live notification reaching this node to the end of the flush that wrote it to its "
                "subscribers' sockets.",
                bounds, fanout_latency_.counts(), fanout_latency_.sum_seconds());
    m.histogram("notifier_flush_duration_seconds", "Time to write every session with something queued, once.",
                bounds, flush_duration_.counts(), flush_duration_.sum_seconds());
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
