// SPDX-License-Identifier: MIT
#include "receiver.hpp"

#include "clock.hpp"
#include "options.hpp"
#include "spread_plan.hpp"
#include "url.hpp"

#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <ctime>

namespace loadgen {

namespace {

constexpr std::size_t receive_buffer_bytes = 256 * 1024;
constexpr int max_attempts = 3;
// The kernel hands out ~28k ephemeral ports per (source, destination) pair.
constexpr std::size_t connections_per_source = 25000;

bool connecting_state(ws_client::state s) noexcept {
    return s == ws_client::state::connecting || s == ws_client::state::tls_handshaking ||
           s == ws_client::state::handshaking || s == ws_client::state::opening;
}

}  // namespace

receiver::receiver(const options& opts, const url& target, const tls_context* tls, latency_histogram& histogram,
                   const publish_log& log, const spread_plan& plan, std::size_t first_index)
    : opts_(opts), target_(target), plan_(plan), first_index_(first_index) {
    ctx_.epfd = epoll_create1(EPOLL_CLOEXEC);
    ctx_.protocol = opts.protocol;
    ctx_.tls = tls;
    ctx_.publishers = opts.publishers;
    ctx_.buffer.resize(receive_buffer_bytes);
    ctx_.histogram = &histogram;
    ctx_.log = &log;
    ctx_.plan = &plan;
    ctx_.seq_consecutive = opts.subscribe_template.empty();
    ctx_.realtime_offset = realtime_offset_ns();
    path_ = opts.protocol == protocol_kind::socketio ? "/socket.io/?EIO=4&transport=websocket" : target.target;

    std::size_t total = opts.idle > 0 ? std::size_t(opts.idle) : std::size_t(opts.clients) + std::size_t(opts.stalled);
    if (target.is_loopback_v4() && total > connections_per_source)
        source_count_ = unsigned((total + connections_per_source - 1) / connections_per_source);
    batch_ns_ = std::uint64_t(opts.rx_batch_us) * 1000;
    clients_.reserve(total);  // ids are indexes; never reallocate under epoll
}

receiver::~receiver() {
    clients_.clear();
    if (ctx_.epfd >= 0) close(ctx_.epfd);
}

// Receiving clients open the URL with their own subscriptions, if any;
// stalled ones keep the URL as given.
std::string receiver::path_of(std::size_t index) const {
    const auto& c = clients_[index];
    if (c.stalled()) return path_;
    std::string q = plan_.query(first_index_ + index);
    if (q.empty()) return path_;
    return path_ + (path_.find('?') == std::string::npos ? '?' : '&') + q;
}

unsigned receiver::source_address(std::size_t index) const noexcept {
    if (source_count_ == 0) return 0;
    return 0x7f000001u + unsigned(index % source_count_);
}

bool receiver::connect_clients(int count, bool stalled, std::string& err) {
    const std::size_t first = clients_.size();
    const std::size_t end = first + std::size_t(count);
    for (std::size_t i = first; i < end; ++i)
        clients_.emplace_back(int(i), stalled, opts_.publishers, stalled ? -1 : plan_.client_forum(first_index_ + i));

    connecting_ = true;
    in_flight_ = 0;
    ready_ = 0;
    retry_.clear();
    gave_up_.clear();
    const int rcvbuf = stalled ? opts_.stalled_rcvbuf : 0;
    const std::uint64_t timeout_ns = ns_from_s(opts_.connect_timeout_s);
    std::uint64_t next_timeout_check = 0;
    std::uint64_t next_progress = now_ns() + 1'000'000'000ull;
    std::size_t next = first;

    auto start_one = [&](std::size_t idx) {
        auto& c = clients_[idx];
        if (c.start(target_, path_of(idx), ctx_, rcvbuf, source_address(idx))) {
            ++in_flight_;
        } else if (c.attempts() < max_attempts) {
            retry_.push_back(idx);
        } else {
            gave_up_.push_back(idx);
        }
    };

    while (std::size_t(ready_) + gave_up_.size() < std::size_t(count)) {
        while (in_flight_ < opts_.connect_concurrency && (!retry_.empty() || next < end)) {
            std::size_t idx;
            if (!retry_.empty()) {
                idx = retry_.back();
                retry_.pop_back();
            } else {
                idx = next++;
            }
            start_one(idx);
        }
        if (in_flight_ == 0) continue;
        poll(10);

        const std::uint64_t now = now_ns();
        if (now >= next_timeout_check) {
            next_timeout_check = now + 100'000'000ull;
            for (std::size_t i = first; i < next; ++i) {
                auto& c = clients_[i];
                auto before = c.current_state();
                if (connecting_state(before) && now - c.started_ns() > timeout_ns) {
                    char why[160];
                    std::snprintf(why, sizeof why, "timed out after %g s %s", opts_.connect_timeout_s,
                                  ws_client::state_name(before));
                    c.abort(why);
                    // A server that did not answer in time will not do
                    // better on a retry; give up on this client.
                    --in_flight_;
                    gave_up_.push_back(i);
                }
            }
        }
        if (!opts_.quiet && now >= next_progress) {
            next_progress = now + 1'000'000'000ull;
            std::fprintf(stderr, "  %s clients ready: %d/%d\n", stalled ? "stalled" : "receiving", ready_, count);
        }
    }
    connecting_ = false;
    if (!gave_up_.empty()) {
        const auto& c = clients_[gave_up_.front()];
        err = std::to_string(gave_up_.size()) + " of " + std::to_string(count) +
              (stalled ? " stalled" : "") + " clients could not connect to " + target_.host_header + path_ +
              " (first error: " + c.error() + ")";
        return false;
    }
    return true;
}

void receiver::on_transition(std::size_t index, ws_client::state before, ws_client::state after) {
    if (!connecting_ || !connecting_state(before)) return;
    auto& c = clients_[index];
    if (after == ws_client::state::ready) {
        --in_flight_;
        ++ready_;
        if (negotiated_.version.empty() && c.tls()) negotiated_ = c.tls()->session();
        if (c.stalled()) epoll_ctl(ctx_.epfd, EPOLL_CTL_DEL, c.fd(), nullptr);  // never read again
    } else if (after == ws_client::state::failed || after == ws_client::state::closed) {
        --in_flight_;
        if (c.attempts() < max_attempts) retry_.push_back(index);
        else gave_up_.push_back(index);
    }
}

void receiver::poll(int timeout_ms) {
    epoll_event events[512];
    int n = epoll_wait(ctx_.epfd, events, 512, timeout_ms);
    const std::uint64_t round_start = batch_ns_ > 0 && n > 0 ? now_ns() : 0;
    for (int i = 0; i < n; ++i) {
        const std::size_t idx = std::size_t(events[i].data.u64);
        auto& c = clients_[idx];
        const auto before = c.current_state();
        c.on_event(events[i].events, ctx_);
        const auto after = c.current_state();
        if (after != before) on_transition(idx, before, after);
    }
    if (round_start != 0) {
        // Interrupt moderation: a wakeup per message costs more than the
        // message; waiting lets the kernel queue several per socket.
        const std::uint64_t spent = now_ns() - round_start;
        if (spent < batch_ns_) {
            timespec ts{0, long(batch_ns_ - spent)};
            nanosleep(&ts, nullptr);
        }
    }
}

bool receiver::caught_up(std::uint64_t published) const {
    for (const auto& c : clients_)
        if (!c.stalled() && c.current_state() == ws_client::state::ready &&
            c.stats().unique < plan_.expected(c.forum(), published))
            return false;
    return true;
}

stalled_totals receiver::check_stalled(std::uint64_t max_wait_ns) {
    stalled_totals t;
    std::vector<std::size_t> stalled;
    for (std::size_t i = 0; i < clients_.size(); ++i) {
        auto& c = clients_[i];
        if (!c.stalled()) continue;
        stalled.push_back(i);
        if (c.fd() < 0) continue;
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u64 = i;
        epoll_ctl(ctx_.epfd, EPOLL_CTL_ADD, c.fd(), &ev);
    }
    t.total = int(stalled.size());

    auto open_bytes = [&](std::uint64_t& bytes) {
        bytes = 0;
        int open = 0;
        for (auto i : stalled) {
            bytes += clients_[i].stats().bytes;
            open += clients_[i].fd() >= 0 ? 1 : 0;
        }
        return open;
    };
    const std::uint64_t deadline = now_ns() + max_wait_ns;
    std::uint64_t last_bytes = 0;
    open_bytes(last_bytes);
    std::uint64_t last_activity = now_ns();
    for (;;) {
        std::uint64_t bytes = 0;
        if (open_bytes(bytes) == 0) break;
        const std::uint64_t now = now_ns();
        if (bytes != last_bytes) {
            last_bytes = bytes;
            last_activity = now;
        } else if (now - last_activity > 250'000'000ull) {
            break;
        }
        if (now >= deadline) break;
        poll(10);
    }

    for (auto i : stalled) {
        const auto& c = clients_[i];
        t.messages += c.stats().messages;
        if (c.current_state() == ws_client::state::closed) {
            ++t.closed;
            if (c.saw_close_frame()) ++t.close_frames;
            ++t.close_codes[c.close_code()];
        }
    }
    return t;
}

delivery_totals receiver::totals(std::uint64_t published) const {
    delivery_totals t;
    bool first = true;
    for (const auto& c : clients_) {
        if (c.stalled()) continue;
        const auto& s = c.stats();
        const std::uint64_t expected = plan_.expected(c.forum(), published);
        t.client_min = first ? s.unique : std::min(t.client_min, s.unique);
        t.client_max = std::max(t.client_max, s.unique);
        t.expected_min = first ? expected : std::min(t.expected_min, expected);
        t.expected_max = std::max(t.expected_max, expected);
        first = false;
        t.delivered += s.messages;
        t.unique += s.unique;
        t.expected += expected;
        t.unexpected += s.unexpected;
        t.lost += expected > s.unique ? expected - s.unique : 0;
        t.duplicates += s.duplicates;
        t.out_of_order += s.out_of_order;
        t.seq_errors += s.seq_errors;
        t.unparsed += s.unparsed;
        t.resyncs += s.resyncs;
        t.bytes += s.bytes;
        if (s.last_rx_ns > t.last_rx_ns) t.last_rx_ns = s.last_rx_ns;
        if (c.current_state() == ws_client::state::closed) {
            ++t.closed;
            ++t.close_codes[c.close_code()];
        } else if (c.current_state() == ws_client::state::failed) {
            if (t.failed++ == 0) t.first_failure = c.error();
        }
    }
    return t;
}

int receiver::open_clients() const {
    int n = 0;
    for (const auto& c : clients_)
        if (!c.stalled() && c.current_state() == ws_client::state::ready) ++n;
    return n;
}

void receiver::close_all() {
    for (auto& c : clients_) c.shutdown();
}

}  // namespace loadgen
