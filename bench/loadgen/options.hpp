// SPDX-License-Identifier: MIT
#pragma once

#include <string>

namespace loadgen {

enum class protocol_kind { notifier, ws, socketio, sse };

const char* protocol_name(protocol_kind p) noexcept;

// Command line settings; defaults here are the ones printed by --help.
struct options {
    std::string url = "ws://127.0.0.1:8080/ws";  // with sse: http://.../sse, or ws://.../ws turned into it
    std::string publish_url;  // empty: http://<host:port of url>/publish
    protocol_kind protocol = protocol_kind::notifier;
    int clients = 100;
    int publishers = 4;
    double rate = 0;  // deliveries per second in total; 0 = unpaced
    double duration_s = 10;
    double drain_s = 2;
    int stalled = 0;
    int stalled_rcvbuf = 4096;
    int idle = 0;
    double settle_s = 2;
    int server_pid = 0;
    int connect_concurrency = 200;
    double connect_timeout_s = 10;
    int expect_status = 202;
    int rx_batch_us = 0;  // minimum time between two receive rounds; 0 = read eagerly
    int rx_threads = 1;   // receiving threads, each with its share of the clients
    std::string collection = "bench";  // of every publish
    // Each receiving client's `collections` ({i}: its forum with --spread,
    // else its index); empty: no query, the implicit "*".
    std::string subscribe_template;
    int spread = 0;      // forums publishes are spread over; 0 = every client expects every publish
    int spread_old = 0;  // > 0: publishes also carry old in forum (n + spread_old) mod spread
    bool quiet = false;
    // wss:// and https:// URLs: the CA (or self-signed certificate) PEM the
    // server's certificate and host must check against; empty: no check.
    std::string tls_ca;
    int tls_version = 0;  // 12 or 13 pins TLS 1.2 or 1.3; 0: 1.2 or later, as the server offers
};

enum class parse_outcome { run, help, error };

// Parses argv into opts. On error a message has been written to stderr.
parse_outcome parse_options(int argc, char** argv, options& opts);

void print_help();

}  // namespace loadgen
