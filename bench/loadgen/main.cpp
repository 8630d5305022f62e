// SPDX-License-Identifier: MIT
// notifier-loadgen: fan-out load generator for notifierd and the peers it is
// compared with. See --help and README.md next to this file.

#include "modes.hpp"
#include "options.hpp"
#include "socket_util.hpp"
#include "tls_context.hpp"
#include "url.hpp"

#include <signal.h>

#include <cstdio>
#include <cstring>
#include <memory>

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
    if (opts.publish_url.empty())
        opts.publish_url = (target->tls ? "https://" : "http://") + target->host_header + "/publish";
    auto publish_target = parse_url(opts.publish_url, "http", err);
    if (!publish_target) {
        std::fprintf(stderr, "notifier-loadgen: --publish-url: %s\n", err.c_str());
        return 2;
    }
    // Idle mode publishes nothing: only --url decides.
    const bool any_tls = target->tls || (opts.idle == 0 && publish_target->tls);
    if (!any_tls && (!opts.tls_ca.empty() || opts.tls_version != 0)) {
        std::fprintf(stderr, "notifier-loadgen: --tls-ca and --tls-version need a wss:// or https:// URL\n");
        return 2;
    }
    std::unique_ptr<tls_context> tls;
    if (any_tls) {
        tls = tls_context::create(opts, err);
        if (!tls) {
            std::fprintf(stderr, "notifier-loadgen: %s\n", err.c_str());
            return 2;
        }
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

    if (opts.idle > 0) return run_idle(opts, *target, tls.get());
    return run_fanout(opts, *target, *publish_target, tls.get());
}
