// SPDX-License-Identifier: MIT
#include "clock.hpp"
#include "latency_histogram.hpp"
#include "modes.hpp"
#include "options.hpp"
#include "publish_log.hpp"
#include "receiver.hpp"
#include "report.hpp"
#include "server_probe.hpp"
#include "spread_plan.hpp"
#include "tls_context.hpp"
#include "url.hpp"

#include <cstdio>

namespace loadgen {

int run_idle(const options& o, const url& target, const tls_context* tls) {
    server_probe probe(o.server_pid);
    const long before = probe.rss_kib();
    if (before < 0) {
        std::fprintf(stderr, "notifier-loadgen: cannot read VmRSS of pid %d\n", o.server_pid);
        return 2;
    }
    // Only needed because the receiver shares its code with fan-out mode.
    publish_log log(std::size_t(1) << 20);
    latency_histogram histogram;
    const spread_plan plan(o);  // --subscribe-template: idle connections with those subscriptions
    receiver rx(o, target, tls, histogram, log, plan);
    std::string err;

    if (!o.quiet)
        std::fprintf(stderr, "opening %d idle connections to %s (%s); server RSS %ld KiB\n", o.idle,
                     target.host_header.c_str(), protocol_name(o.protocol), before);
    if (!rx.connect_clients(o.idle, false, err)) {
        std::fprintf(stderr, "notifier-loadgen: %s\n", err.c_str());
        return 1;
    }
    // Keep answering pings while the server settles.
    const std::uint64_t settle_end = now_ns() + ns_from_s(o.settle_s);
    while (now_ns() < settle_end && !stop_requested.load(std::memory_order_relaxed)) rx.poll(20);
    const long after = probe.rss_kib();

    report r;
    r.mode = "idle";
    r.protocol = protocol_name(o.protocol);
    r.clients = o.idle;
    r.idle_connections = rx.open_clients();
    r.idle_rss_before_kib = before;
    r.tls_subscribers = rx.negotiated();
    r.tls_verified = tls && tls->verifies();
    r.idle_rss_after_kib = after;
    if (after >= 0) r.idle_rss_per_conn_bytes = double(after - before) * 1024.0 / double(o.idle);
    r.server_rss_kib = after;
    const auto t = rx.totals(0);
    r.clients_closed = t.closed;
    r.client_close_codes = t.close_codes;
    r.clients_failed = t.failed;
    r.first_client_failure = t.first_failure;
    rx.close_all();

    print_summary(r);
    print_json(r);
    return 0;
}

}  // namespace loadgen
