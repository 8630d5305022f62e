// SPDX-License-Identifier: MIT
#include <notifier/source/postgres_source.hpp>

#include "source/postgres/pg_connection.hpp"
#include "source/postgres/postgres_setup.hpp"
#include "source/postgres/postgres_source_impl.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>

#include <stdexcept>

namespace notifier {

namespace asio = boost::asio;

postgres_source::postgres_source(notifier n, postgres_source_options opts) {
    pg::validate(opts);
    impl_ = std::make_shared<impl>(std::move(n), std::move(opts));
}

postgres_source::~postgres_source() { stop(); }

void postgres_source::start() {
    auto st = impl_;
    std::lock_guard lock(st->lifecycle);
    if (st->thread.joinable()) return;
    st->stopping = false;
    st->ioc.restart();
    std::promise<void> started;
    auto ready = started.get_future();
    asio::co_spawn(st->ioc, impl::run(st, &started), asio::detached);
    st->thread = std::thread([st] { st->ioc.run(); });
    try {
        ready.get();
    } catch (const std::exception& e) {
        st->thread.join();
        throw std::runtime_error(std::string("postgres: ") + e.what());
    }
}

void postgres_source::stop() {
    auto st = impl_;
    std::lock_guard lock(st->lifecycle);
    if (!st->thread.joinable()) return;
    // At once, not in the posted work: the stream loop may hand over
    // buffered transactions for a long time without yielding.
    st->stopping = true;
    asio::co_spawn(st->ioc, impl::shut_down(st), asio::detached);
    st->thread.join();
    // Coroutines that were not resumed before the loop ran out of work.
    st->ioc.restart();
    st->ioc.poll();
}

void postgres_source::wake() noexcept {}

bool postgres_source::sync(std::chrono::milliseconds timeout) {
    auto st = impl_;
    if (!st->thread.joinable()) return false;  // not running: nothing is handed over, whatever the position
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    // Where the server's WAL ends now: every commit before it must be handed over.
    pg::lsn target = 0;
    try {
        pg::run_blocking([&](asio::io_context& ioc) -> asio::awaitable<void> {
            pg::pg_connection c(ioc);
            co_await c.connect(st->o.conninfo, false);
            const auto r = co_await c.exec("SELECT pg_current_wal_flush_lsn()");
            if (r.values.size() == 1 && r.values[0].size() == 1 && r.values[0][0])
                target = pg::parse_lsn(*r.values[0][0]).value_or(0);
        });
    } catch (const std::exception&) {
        return false;
    }
    if (target == 0) return false;
    std::unique_lock lock(st->m);
    while (st->confirmed_lsn.load() < target) {
        if (std::chrono::steady_clock::now() >= deadline || !st->thread.joinable()) return false;
        // Ask the server for a keepalive: its position tells us when we are idle past `target`.
        asio::post(st->ioc, [st] { st->send_status(true); });
        st->cv.wait_for(lock, std::chrono::milliseconds(20));
    }
    return true;
}

postgres_source_stats postgres_source::stats() const {
    const auto& st = *impl_;
    postgres_source_stats s;
    s.connected = st.connected.load();
    s.transactions = st.n_transactions.load();
    s.changes = st.n_changes.load();
    s.errors = st.n_errors.load();
    s.resyncs = st.n_resyncs.load();
    s.received_lsn = st.received_lsn.load();
    s.confirmed_lsn = st.confirmed_lsn.load();
    s.last_delay_ms = st.last_delay_ms.load();
    const auto oldest = st.oldest_pending_us.load();
    s.lag_ms = oldest ? static_cast<double>(pg::pg_now_us() - oldest) / 1000.0 : 0.0;
    return s;
}

}  // namespace notifier
