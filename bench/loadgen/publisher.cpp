// SPDX-License-Identifier: MIT
#include "publisher.hpp"

#include "clock.hpp"
#include "options.hpp"
#include "spread_plan.hpp"
#include "url.hpp"

#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace loadgen {

publisher::publisher(const options& opts, const url& target, const tls_context* tls, publish_log& log,
                     spread_plan& plan)
    : opts_(opts), target_(target), log_(log), plan_(plan) {
    conns_.reserve(std::size_t(opts.publishers));
    for (int i = 0; i < opts.publishers; ++i)
        conns_.emplace_back(i, target, opts.expect_status, tls, opts.connect_timeout_s);
}

publisher::~publisher() { join(); }

bool publisher::connect(std::string& err) {
    for (auto& c : conns_)
        if (!c.connect(err)) return false;
    if (!conns_.empty() && conns_.front().tls()) negotiated_ = conns_.front().tls()->session();
    return true;
}

void publisher::start(std::uint64_t end_ns, std::uint64_t give_up_ns) {
    end_ns_ = end_ns;
    give_up_ns_ = give_up_ns;
    thread_ = std::thread([this] { run(); });
}

void publisher::join() {
    if (thread_.joinable()) thread_.join();
}

std::string publisher::first_error() const {
    std::lock_guard lock(error_mutex_);
    return first_error_;
}

void publisher::note_error(const std::string& what, bool failed_publish) {
    if (failed_publish) errors_.fetch_add(1, std::memory_order_relaxed);
    std::lock_guard lock(error_mutex_);
    if (first_error_.empty()) first_error_ = what;
}

bool publisher::reconnect(publish_connection& c) {
    std::string err;
    if (c.connect(err)) return true;
    note_error("reconnect: " + err, false);
    return false;
}

void publisher::run() {
    const int epfd = epoll_create1(EPOLL_CLOEXEC);
    const double per_s = opts_.rate > 0 ? opts_.rate / plan_.deliveries_per_publish(opts_.clients) : 0.0;
    int tfd = -1;
    const std::uint64_t start_ns = now_ns();

    auto watch = [&](publish_connection& c, bool add) {
        epoll_event ev{};
        ev.events = EPOLLIN | (c.wants_write() ? EPOLLOUT : 0u);
        ev.data.u64 = std::uint64_t(c.id());
        epoll_ctl(epfd, add ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, c.fd(), &ev);
    };
    for (auto& c : conns_) watch(c, true);

    // Pacing: publish k is due at start + k / per_s. A one-shot absolute
    // timer wakes the loop for the next due publish; acks wake it anyway.
    // When the server falls behind, at most `max_backlog` overdue publishes
    // are caught up, so a stall never turns into a long burst afterwards.
    const double interval_ns = per_s > 0 ? 1e9 / per_s : 0.0;
    const double max_backlog = std::max(2.0, per_s * 0.005);
    double next_due = double(start_ns);
    std::uint64_t armed_for = 0;
    if (per_s > 0) {
        tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u64 = ~std::uint64_t(0);
        epoll_ctl(epfd, EPOLL_CTL_ADD, tfd, &ev);
    }
    auto arm = [&](std::uint64_t at) {
        if (at == armed_for) return;
        armed_for = at;
        itimerspec its{};
        its.it_value.tv_sec = time_t(at / 1'000'000'000ull);
        its.it_value.tv_nsec = long(at % 1'000'000'000ull);
        timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, nullptr);
    };

    std::vector<int> idle;
    for (auto& c : conns_) idle.push_back(c.id());
    std::vector<bool> dead(conns_.size(), false);
    std::size_t alive = conns_.size();
    std::uint64_t next_n = 1;
    epoll_event events[64];

    auto lose = [&](publish_connection& c, const char* what) {
        if (c.in_flight()) note_error(std::string("publish connection ") + what);
        if (reconnect(c)) {
            watch(c, true);
            idle.push_back(c.id());
        } else if (!dead[std::size_t(c.id())]) {
            dead[std::size_t(c.id())] = true;
            --alive;
        }
    };

    for (;;) {
        const std::uint64_t now = now_ns();
        const bool publishing = now < end_ns_ && !stop_.load(std::memory_order_relaxed) && alive > 0;
        if (publishing) {
            if (per_s > 0) next_due = std::max(next_due, double(now) - max_backlog * interval_ns);
            while (!idle.empty() && (per_s == 0 || double(now) >= next_due)) {
                auto& c = conns_[std::size_t(idle.back())];
                idle.pop_back();
                const std::uint64_t n = next_n++;
                sent_.fetch_add(1, std::memory_order_relaxed);
                if (!c.send(n, log_, plan_)) {
                    lose(c, "write failed");
                    continue;
                }
                if (c.wants_write()) watch(c, false);
                if (per_s > 0) next_due += interval_ns;
                last_send_ns_.store(now, std::memory_order_relaxed);
            }
            if (per_s > 0 && !idle.empty()) arm(std::uint64_t(next_due) + 1);
        } else {
            std::size_t busy = 0;
            for (auto& c : conns_) busy += c.in_flight() ? 1 : 0;
            if (busy == 0) break;
            if (now >= give_up_ns_) {
                for (auto& c : conns_)
                    if (c.in_flight()) note_error("no answer before the drain ended");
                break;
            }
        }

        // Acks and the pacing timer wake the loop; the timeout only bounds
        // how late the end of the window and stop requests are noticed.
        const std::uint64_t wake = publishing ? end_ns_ : give_up_ns_;
        const int timeout_ms =
            wake > now ? int(std::min<std::uint64_t>((wake - now) / 1'000'000 + 1, 100)) : 0;

        int n = epoll_wait(epfd, events, 64, timeout_ms);
        for (int i = 0; i < n; ++i) {
            if (events[i].data.u64 == ~std::uint64_t(0)) {
                std::uint64_t expirations;
                [[maybe_unused]] auto r = read(tfd, &expirations, sizeof expirations);
                continue;
            }
            auto& c = conns_[events[i].data.u64];
            if (c.fd() < 0) continue;
            if (events[i].events & EPOLLOUT) {
                if (!c.flush()) {
                    lose(c, "write failed");
                    continue;
                }
                if (!c.wants_write()) watch(c, false);
            }
            if (!(events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))) continue;
            switch (c.on_readable()) {
                case publish_connection::outcome::pending:
                    break;
                case publish_connection::outcome::accepted:
                    plan_.accepted(c.last_n());
                    accepted_.fetch_add(1, std::memory_order_relaxed);
                    if (c.must_reconnect()) lose(c, "closed by the server");
                    else idle.push_back(c.id());
                    break;
                case publish_connection::outcome::rejected:
                    note_error("HTTP " + std::to_string(c.last_status()) + " " + c.last_body());
                    if (c.must_reconnect()) lose(c, "closed by the server");
                    else idle.push_back(c.id());
                    break;
                case publish_connection::outcome::broken:
                    lose(c, "closed by the server with a request in flight");
                    break;
            }
        }
    }
    for (auto& c : conns_) c.close_socket();
    if (tfd >= 0) close(tfd);
    close(epfd);
    finished_.store(true, std::memory_order_release);
}

}  // namespace loadgen
