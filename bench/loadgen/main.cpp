// SPDX-License-Identifier: MIT
// notifier-loadgen: fan-out load generator for notifierd and the peers it is
// compared with. See --help and README.md next to this file.

#include "modes.hpp"
#include "options.hpp"
#include "socket_util.hpp"
#include "url.hpp"

#include <signal.h>

#include <cstdio>
#include <cstring>

namespace loadgen {
std::atomic<bool> stop_requested{false};
}

namespace {

void on_signal(int) { loadgen::stop_requested.store(true); }

}  // namespace

int main(int argc, char** argv) {
    using namespace loadgen;
    options opts;
    switch (parse_options(argc, argv, opts)) {
        case parse_outcome::help:
            print_help();
            return 0;
        case parse_outcome::error:
            return 2;
        case parse_outcome::run:
            break;
    }

    std::string err;
    auto target = opts.protocol == protocol_kind::sse ? parse_stream_url(opts.url, err) : parse_url(opts.url, "ws", err);
    if (!target) {
        std::fprintf(stderr, "notifier-loadgen: --url: %s\n", err.c_str());
        return 2;
    }
    if (opts.publish_url.empty()) opts.publish_url = "http://" + target->host_header + "/publish";
    auto publish_target = parse_url(opts.publish_url, "http", err);
    if (!publish_target) {
        std::fprintf(stderr, "notifier-loadgen: --publish-url: %s\n", err.c_str());
        return 2;
    }

    const long needed = long(opts.idle > 0 ? opts.idle : opts.clients + opts.stalled) + opts.publishers + 64;
    const long limit = raise_fd_limit();
    if (limit >= 0 && limit < needed)
        std::fprintf(stderr, "notifier-loadgen: warning: RLIMIT_NOFILE is %ld, %ld descriptors are needed\n",
                     limit, needed);

    // The first Ctrl-C ends publishing early (the run still reports); the
    // second one kills the process.
    struct sigaction sa{};
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESETHAND;
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    signal(SIGPIPE, SIG_IGN);

    if (opts.idle > 0) return run_idle(opts, *target);
    return run_fanout(opts, *target, *publish_target);
}
