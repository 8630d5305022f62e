// SPDX-License-Identifier: MIT
#pragma once

#include "tls_stream.hpp"

#include <cstdint>
#include <limits>
#include <map>
#include <string>

namespace loadgen {

// Everything a run measured. "Not measured" is -1 for the RSS fields and NaN
// for the other floating point fields; both print as JSON null.
struct report {
    std::string mode = "fanout";  // "fanout" or "idle"
    std::string protocol;
    int clients = 0;
    int publishers = 0;
    double rate_target = 0;
    int rx_batch_us = 0;
    double duration_s = 0;
    double publish_window_s = 0;  // first to last publish actually sent
    double drain_s = 0;           // end of publishing to last check of the drain

    std::uint64_t sent = 0;
    std::uint64_t published = 0;  // answered with the expected status
    std::uint64_t publish_errors = 0;
    std::string first_publish_error;

    std::string collection;
    std::string subscribe_template;  // empty: none (the implicit "*")
    int spread = 0;
    int spread_old = 0;
    std::string seq_check = "consecutive";  // or "increasing" with a template
    double publish_rate_target = 0;         // publishes/s that --rate asked for

    std::uint64_t expected = 0;   // Σ over clients of what each expects (published * clients without --spread)
    std::uint64_t unexpected = 0; // deliveries of another forum's publish (--spread)
    std::uint64_t client_expected_min = 0;  // fewest / most one client expects
    std::uint64_t client_expected_max = 0;
    std::uint64_t delivered = 0;  // notifications received, duplicates included
    double deliveries_per_s = 0;
    std::uint64_t lost = 0;
    std::uint64_t client_min = 0;  // distinct notifications of the least / best served client
    std::uint64_t client_max = 0;
    std::uint64_t duplicates = 0;
    std::uint64_t out_of_order = 0;
    std::uint64_t seq_errors = 0;
    std::uint64_t unparsed = 0;
    std::uint64_t resyncs = 0;
    // Bytes the receiving clients read, their response heads and opening
    // frames or events included: with `delivered`, what a notification
    // costs on the wire in each protocol.
    std::uint64_t bytes_received = 0;

    std::uint64_t latency_samples = 0;
    std::uint64_t p50_us = 0, p90_us = 0, p99_us = 0, p999_us = 0, max_us = 0;
    // Publish → first client to receive it (before the fan-out spread).
    std::uint64_t first_p50_us = 0, first_p99_us = 0;
    bool first_known = true;  // false with several receiving threads: reported as null
    // Publish → the kernel's receive timestamp on the client socket: the
    // same deliveries without this process's own read delay (0 samples when
    // the kernel gave no timestamps).
    std::uint64_t arrival_samples = 0;
    std::uint64_t arrival_p50_us = 0, arrival_p90_us = 0, arrival_p99_us = 0, arrival_p999_us = 0,
                  arrival_max_us = 0;

    int clients_closed = 0;
    int clients_failed = 0;
    std::string first_client_failure;
    std::map<int, int> client_close_codes;

    int stalled = 0;
    int stalled_closed = 0;
    int stalled_close_frames = 0;
    std::uint64_t stalled_messages = 0;
    std::map<int, int> stalled_close_codes;

    long server_rss_kib = -1;  // peak of the samples
    double server_cpu_s = std::numeric_limits<double>::quiet_NaN();
    double loadgen_cpu_s = std::numeric_limits<double>::quiet_NaN();

    // What the first connection of each side negotiated; an empty version
    // is plain TCP. verified: --tls-ca checked the server's certificate.
    tls_session tls_subscribers;
    tls_session tls_publishers;
    bool tls_verified = false;

    int idle_connections = 0;
    long idle_rss_before_kib = -1;
    long idle_rss_after_kib = -1;
    double idle_rss_per_conn_bytes = std::numeric_limits<double>::quiet_NaN();
};

void print_json(const report& r);     // one line on stdout
void print_summary(const report& r);  // human-readable, on stderr

}  // namespace loadgen
