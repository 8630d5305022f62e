// SPDX-License-Identifier: MIT
#include "clock.hpp"
#include "latency_histogram.hpp"
#include "modes.hpp"
#include "options.hpp"
#include "publish_log.hpp"
#include "publisher.hpp"
#include "receiver.hpp"
#include "report.hpp"
#include "server_probe.hpp"
#include "spread_plan.hpp"
#include "tls_context.hpp"
#include "url.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <memory>
#include <thread>
#include <vector>

namespace loadgen {

namespace {

double self_cpu_seconds() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// Sums what each receiving thread counted.
delivery_totals merge_totals(const std::vector<delivery_totals>& parts) {
    delivery_totals t;
    bool any = false;
    for (const auto& p : parts) {
        t.delivered += p.delivered;
        t.unique += p.unique;
        t.expected += p.expected;
        t.unexpected += p.unexpected;
        t.lost += p.lost;
        t.duplicates += p.duplicates;
        t.out_of_order += p.out_of_order;
        t.seq_errors += p.seq_errors;
        t.unparsed += p.unparsed;
        t.resyncs += p.resyncs;
        t.bytes += p.bytes;
        t.last_rx_ns = std::max(t.last_rx_ns, p.last_rx_ns);
        t.client_min = any ? std::min(t.client_min, p.client_min) : p.client_min;
        t.client_max = std::max(t.client_max, p.client_max);
        t.expected_min = any ? std::min(t.expected_min, p.expected_min) : p.expected_min;
        t.expected_max = std::max(t.expected_max, p.expected_max);
        any = true;
        t.closed += p.closed;
        t.failed += p.failed;
        if (t.first_failure.empty()) t.first_failure = p.first_failure;
        for (const auto& [code, n] : p.close_codes) t.close_codes[code] += n;
    }
    return t;
}

}  // namespace

int run_fanout(const options& o, const url& target, const url& publish_target, const tls_context* tls_ctx) {
    const tls_context* tls = target.tls ? tls_ctx : nullptr;
    publish_log log;
    spread_plan plan(o);
    // One receiver per receiving thread, each with its share of the clients
    // and its own histograms; merged after the threads are joined.
    const int threads = std::max(1, std::min(o.rx_threads, o.clients));
    auto share_of = [&](int i) { return o.clients / threads + (i < o.clients % threads ? 1 : 0); };
    std::vector<latency_histogram> histograms(threads), arrival_histograms(threads);
    std::vector<std::unique_ptr<receiver>> rxs;
    std::size_t first_index = 0;
    for (int i = 0; i < threads; ++i) {
        rxs.push_back(std::make_unique<receiver>(o, target, tls, histograms[i], log, plan, first_index));
        rxs.back()->record_arrival(arrival_histograms[i]);
        first_index += std::size_t(share_of(i));
    }
    receiver& rx = *rxs.front();
    latency_histogram first_histogram;
    // "First client of a publish" is known only to a single receiver.
    if (threads == 1) rx.record_first_client(first_histogram);
    server_probe probe(o.server_pid);
    std::string err;

    if (!o.quiet)
        std::fprintf(stderr, "connecting %d clients to %s (%s), %d receiving thread%s\n", o.clients,
                     target.host_header.c_str(), protocol_name(o.protocol), threads, threads == 1 ? "" : "s");
    for (int i = 0; i < threads; ++i) {
        if (!rxs[i]->connect_clients(share_of(i), false, err)) {
            std::fprintf(stderr, "notifier-loadgen: %s\n", err.c_str());
            return 1;
        }
    }
    if (o.stalled > 0) {
        if (!o.quiet) std::fprintf(stderr, "connecting %d stalled clients\n", o.stalled);
        if (!rx.connect_clients(o.stalled, true, err)) {
            std::fprintf(stderr, "notifier-loadgen: %s\n", err.c_str());
            return 1;
        }
    }
    publisher pub(o, publish_target, publish_target.tls ? tls_ctx : nullptr, log, plan);
    if (!pub.connect(err)) {
        std::fprintf(stderr, "notifier-loadgen: publisher: %s\n", err.c_str());
        return 1;
    }

    // Servers may register a subscriber asynchronously after the upgrade
    // (plain ws peers confirm nothing), so the very first publish could miss
    // the last clients to connect. A quarter of a second settles that.
    for (const std::uint64_t until = now_ns() + 250'000'000ull; now_ns() < until;)
        for (auto& r : rxs) r->poll(10 / threads + 1);

    long rss_peak = probe.rss_kib();
    const double server_cpu0 = probe.cpu_seconds();
    const double self_cpu0 = self_cpu_seconds();
    auto sample_rss = [&] { rss_peak = std::max(rss_peak, probe.rss_kib()); };

    const std::uint64_t t0 = now_ns();
    const std::uint64_t end = t0 + ns_from_s(o.duration_s);
    const std::uint64_t give_up = end + ns_from_s(o.drain_s);
    if (!o.quiet)
        std::fprintf(stderr, "publishing for %g s with %d connections (%s)\n", o.duration_s, o.publishers,
                     o.rate > 0 ? "paced" : "unpaced");
    pub.start(end, give_up);

    // Receivers 1.. run on threads of their own until told to stop; each
    // says when it has caught up after publishing ended.
    std::atomic<bool> stop_rx{false};
    std::vector<std::atomic<bool>> caught(threads);
    std::vector<std::thread> workers;
    for (int i = 1; i < threads; ++i) {
        workers.emplace_back([&, i] {
            while (!stop_rx.load(std::memory_order_relaxed)) {
                rxs[i]->poll(5);
                if (pub.finished() && rxs[i]->caught_up(pub.accepted())) caught[i].store(true);
            }
        });
    }
    auto all_caught_up = [&] {
        if (!pub.finished() || !rx.caught_up(pub.accepted())) return false;
        for (int i = 1; i < threads; ++i)
            if (!caught[i].load()) return false;
        return true;
    };

    std::uint64_t next_sample = t0;
    std::uint64_t next_progress = t0 + 1'000'000'000ull;
    std::uint64_t last_delivered = 0, last_published = 0;
    auto periodic = [&](std::uint64_t now) {
        if (probe.enabled() && now >= next_sample) {
            next_sample = now + 100'000'000ull;
            sample_rss();
        }
        if (!o.quiet && now >= next_progress) {
            next_progress += 1'000'000'000ull;
            // The other receivers' counts belong to their threads: the
            // progress line shows the first receiver's share.
            auto t = rx.totals(0);
            std::uint64_t published = pub.accepted();
            std::fprintf(stderr, "  [%5.1fs] published %llu (+%llu/s)  delivered %llu (+%llu/s)%s  open clients %d\n",
                         double(now - t0) / 1e9, (unsigned long long)published,
                         (unsigned long long)(published - last_published), (unsigned long long)t.delivered,
                         (unsigned long long)(t.delivered - last_delivered), threads > 1 ? " on thread 1" : "",
                         rx.open_clients());
            last_delivered = t.delivered;
            last_published = published;
        }
    };

    // Publishing window.
    for (std::uint64_t now = now_ns(); now < end; now = now_ns()) {
        if (stop_requested.load(std::memory_order_relaxed)) {
            pub.stop_early();
            break;
        }
        rx.poll(5);
        periodic(now);
    }

    // Drain: until everything acknowledged has reached every open client.
    const std::uint64_t drain_start = now_ns();
    std::uint64_t drain_end = drain_start;
    for (;;) {
        drain_end = now_ns();
        if (all_caught_up()) break;
        if (drain_end >= give_up) break;
        rx.poll(5);
        periodic(drain_end);
    }
    stop_rx.store(true);
    for (auto& w : workers) w.join();
    pub.join();
    const double server_cpu1 = probe.cpu_seconds();
    const double self_cpu1 = self_cpu_seconds();
    sample_rss();

    latency_histogram histogram, arrival_histogram;
    for (int i = 0; i < threads; ++i) {
        histogram.merge(histograms[i]);
        arrival_histogram.merge(arrival_histograms[i]);
    }

    report r;
    r.protocol = protocol_name(o.protocol);
    r.clients = o.clients;
    r.publishers = o.publishers;
    r.rate_target = o.rate;
    r.rx_batch_us = o.rx_batch_us;
    r.duration_s = o.duration_s;
    r.publish_window_s = double(std::max(pub.last_send_ns(), t0) - t0) / 1e9;
    r.drain_s = double(drain_end - drain_start) / 1e9;
    r.sent = pub.sent();
    r.published = pub.accepted();
    r.publish_errors = pub.errors();
    r.first_publish_error = pub.first_error();
    r.collection = o.collection;
    r.subscribe_template = o.subscribe_template;
    r.spread = o.spread;
    r.spread_old = o.spread_old;
    r.seq_check = o.subscribe_template.empty() ? "consecutive" : "increasing";
    r.tls_subscribers = rx.negotiated();
    r.tls_publishers = pub.negotiated();
    r.tls_verified = tls_ctx && tls_ctx->verifies();
    r.publish_rate_target = o.rate > 0 ? o.rate / plan.deliveries_per_publish(o.clients) : 0;

    std::vector<delivery_totals> parts;
    for (auto& one : rxs) parts.push_back(one->totals(r.published));
    const delivery_totals t = merge_totals(parts);
    // published × clients when every client expects every publish.
    r.expected = t.expected;
    r.unexpected = t.unexpected;
    r.client_expected_min = t.expected_min;
    r.client_expected_max = t.expected_max;
    r.delivered = t.delivered;
    r.lost = t.lost;
    r.client_min = t.client_min;
    r.client_max = t.client_max;
    r.duplicates = t.duplicates;
    r.out_of_order = t.out_of_order;
    r.seq_errors = t.seq_errors;
    r.unparsed = t.unparsed;
    r.resyncs = t.resyncs;
    r.bytes_received = t.bytes;
    if (t.last_rx_ns > t0) r.deliveries_per_s = double(t.delivered) / (double(t.last_rx_ns - t0) / 1e9);
    r.clients_closed = t.closed;
    r.clients_failed = t.failed;
    r.first_client_failure = t.first_failure;
    r.client_close_codes = t.close_codes;

    r.latency_samples = histogram.count();
    r.p50_us = histogram.quantile(0.50);
    r.first_p50_us = first_histogram.quantile(0.50);
    r.first_p99_us = first_histogram.quantile(0.99);
    r.first_known = threads == 1;
    r.p90_us = histogram.quantile(0.90);
    r.p99_us = histogram.quantile(0.99);
    r.p999_us = histogram.quantile(0.999);
    r.max_us = histogram.max();
    r.arrival_samples = arrival_histogram.count();
    r.arrival_p50_us = arrival_histogram.quantile(0.50);
    r.arrival_p90_us = arrival_histogram.quantile(0.90);
    r.arrival_p99_us = arrival_histogram.quantile(0.99);
    r.arrival_p999_us = arrival_histogram.quantile(0.999);
    r.arrival_max_us = arrival_histogram.max();

    r.server_rss_kib = rss_peak;
    if (server_cpu0 >= 0 && server_cpu1 >= 0) r.server_cpu_s = server_cpu1 - server_cpu0;
    r.loadgen_cpu_s = self_cpu1 - self_cpu0;

    if (o.stalled > 0) {
        const stalled_totals s = rx.check_stalled(5'000'000'000ull);
        r.stalled = s.total;
        r.stalled_closed = s.closed;
        r.stalled_close_frames = s.close_frames;
        r.stalled_close_codes = s.close_codes;
        r.stalled_messages = s.messages;
    }
    for (auto& one : rxs) one->close_all();

    print_summary(r);
    print_json(r);
    return 0;
}

}  // namespace loadgen
