// SPDX-License-Identifier: MIT
#include <notifier/source/postgres_source.hpp>

#include "core/sql_quote.hpp"
#include "source/postgres/pg_connection.hpp"
#include "source/postgres/pgoutput_decoder.hpp"
#include "source/postgres/postgres_setup.hpp"
#include "source/postgres/row_encoder.hpp"

#include <libpq-fe.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <unordered_map>

namespace notifier {

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;
using pg::lsn;

namespace {

// Notifications handed to the hub and not yet published: above it the
// source stops reading, and the slot holds the rest on the server.
constexpr std::size_t max_in_flight = 100'000;
// A transaction changing more rows (a bulk load, a mass update) becomes one
// `reset` per collection it touched: browsers reload once instead of
// receiving a flood.
constexpr std::size_t max_transaction_changes = 10'000;

}  // namespace

struct postgres_source::impl {
    struct state : std::enable_shared_from_this<state> {
        state(notifier n_, postgres_source_options o_)
            : n(std::move(n_)), o(std::move(o_)), encoder(o.max_data_bytes) {}

        asio::io_context ioc;
        notifier n;
        postgres_source_options o;
        pg::row_encoder encoder;
        std::atomic<bool> stopping{false};

        // --- loop thread only ---
        std::vector<pg::watched_table> tables;
        std::unordered_map<std::uint32_t, pg::relation> relations;
        bool streamed_before = false;  // set up once: the slot existed
        bool reached_stream = false;   // the last session streamed: reconnect soon
        lsn submitted_end = 0;   // end of the newest transaction handed to the hub
        lsn confirmed = 0;       // everything before it is published: the slot may forget it
        lsn received = 0;
        lsn server_end = 0;      // newest keepalive position
        bool in_txn = false;
        std::vector<notification> txn;
        std::set<std::string> txn_collections;  // when collapsed
        bool txn_collapsed = false;
        std::int64_t txn_commit_time = 0;
        struct commit_entry {
            lsn end;
            bool done;
            std::int64_t commit_time;  // µs since 2000-01-01
        };
        std::deque<commit_entry> pending;  // transactions in flight, in commit order
        std::size_t in_flight = 0;
        asio::steady_timer resume{ioc};   // wakes a reader waiting for in_flight to drop
        asio::steady_timer backoff_timer{ioc};
        asio::steady_timer status_timer{ioc};
        std::shared_ptr<pg::pg_connection> repl;  // the stream, while connected
        std::shared_ptr<pg::pg_connection> sql;   // setup queries, while connecting
        bool status_writing = false, status_again = false, status_reply = false;
        bool hub_gone = false;  // a hand-over failed: the hub stopped

        // --- any thread ---
        std::atomic<bool> connected{false};
        std::atomic<std::uint64_t> n_transactions{0}, n_changes{0}, n_errors{0}, n_resyncs{0}, received_lsn{0},
            confirmed_lsn{0};
        std::atomic<double> last_delay_ms{0};  // commit to published, of the newest transaction
        std::atomic<std::int64_t> oldest_pending_us{0};  // commit time of the oldest unpublished transaction
        std::mutex m;
        std::condition_variable cv;

        void report(const std::string& what) {
            ++n_errors;
            if (o.on_error)
                o.on_error(what);
            else
                std::fprintf(stderr, "notifier: postgres: %s\n", what.c_str());
        }

        // --- confirming ---
        void advance() {
            lsn c = confirmed;
            while (!pending.empty() && pending.front().done) {
                c = std::max(c, pending.front().end);
                pending.pop_front();
            }
            oldest_pending_us.store(pending.empty() ? 0 : pending.front().commit_time);
            // Idle: everything the server sent so far is handled.
            if (pending.empty() && !in_txn) c = std::max(c, server_end);
            if (c == confirmed) return;
            confirmed = c;
            {
                std::lock_guard lock(m);
                confirmed_lsn.store(c);
            }
            cv.notify_all();
        }

        void on_published(std::error_code ec, std::size_t count, std::int64_t commit_time, std::uint64_t end_lsn) {
            if (ec) {  // the hub stopped: keep the position
                hub_gone = true;
                resume.cancel();
                return;
            }
            // This transaction's entry: with a networked broker answers may
            // come out of order, and only a published one may be confirmed.
            for (auto& e : pending)
                if (e.end == end_lsn) {
                    e.done = true;
                    break;
                }
            in_flight -= std::min(in_flight, count);
            ++n_transactions;
            n_changes += count;
            last_delay_ms.store(static_cast<double>(pg::pg_now_us() - commit_time) / 1000.0);
            resume.cancel();
            advance();
        }

        void send_status(bool reply) {
            status_reply = status_reply || reply;
            if (!repl) return;
            if (status_writing) {
                status_again = true;
                return;
            }
            status_writing = true;
            asio::co_spawn(ioc, write_status(shared_from_this(), repl), asio::detached);
        }

        static awaitable<void> write_status(std::shared_ptr<state> self, std::shared_ptr<pg::pg_connection> c) {
            try {
                do {
                    self->status_again = false;
                    const bool reply = std::exchange(self->status_reply, false);
                    co_await c->write_copy(
                        pg::encode_status_update(self->received, self->confirmed, pg::pg_now_us(), reply));
                } while (self->status_again && c == self->repl);
            } catch (const std::exception&) {
                // The reader sees the broken connection and reconnects.
            }
            self->status_writing = false;
        }

        static awaitable<void> status_ticker(std::shared_ptr<state> self, std::shared_ptr<pg::pg_connection> c) {
            while (!self->stopping && c == self->repl) {
                self->status_timer.expires_after(self->o.status_interval);
                boost::system::error_code ec;
                co_await self->status_timer.async_wait(asio::redirect_error(use_awaitable, ec));
                if (self->stopping || c != self->repl) break;
                self->send_status(false);
            }
        }

        // --- decoding ---
        const pg::watched_table* table_of(const pg::relation& r) const {
            for (const auto& t : tables)
                if (t.schema == r.schema && t.name == r.name) return &t;
            return nullptr;
        }

        void collapse() {
            for (const auto& n : txn) txn_collections.insert(n.collection);
            txn.clear();
            txn_collapsed = true;
        }

        void on_message(const pg::message& msg) {
            if (auto* b = std::get_if<pg::begin>(&msg)) {
                in_txn = true;
                txn.clear();
                txn_collections.clear();
                txn_collapsed = false;
                txn_commit_time = b->commit_time;
            } else if (auto* r = std::get_if<pg::relation>(&msg)) {
                relations[r->oid] = *r;
            } else if (auto* c = std::get_if<pg::change>(&msg)) {
                auto it = relations.find(c->relation);
                if (it == relations.end()) throw std::runtime_error("change of an unannounced relation");
                const auto* t = table_of(it->second);
                if (!t) return;  // published by someone else's choice: not ours
                if (txn_collapsed) {
                    txn_collections.insert(t->collection);
                    return;
                }
                encoder.encode(*t, it->second, *c, txn);
                if (txn.size() > max_transaction_changes) collapse();
            } else if (auto* tr = std::get_if<pg::truncate>(&msg)) {
                for (auto oid : tr->relations) {
                    auto it = relations.find(oid);
                    const auto* t = it == relations.end() ? nullptr : table_of(it->second);
                    if (!t) continue;
                    if (txn_collapsed)
                        txn_collections.insert(t->collection);
                    else
                        txn.push_back(reset_notification(t->collection));
                }
            } else if (auto* cm = std::get_if<pg::commit>(&msg)) {
                in_txn = false;
                on_commit(*cm);
            }
        }

        void on_commit(const pg::commit& cm) {
            if (cm.end_lsn <= submitted_end) {  // sent again after a reconnect: handed over already
                txn.clear();
                return;
            }
            std::vector<notification> batch;
            if (txn_collapsed) {
                for (const auto& c : txn_collections) batch.push_back(reset_notification(c));
            } else {
                batch = std::move(txn);
            }
            txn.clear();
            submitted_end = cm.end_lsn;
            if (batch.empty()) {
                pending.push_back({cm.end_lsn, true, cm.commit_time});
                return advance();
            }
            const std::size_t count = batch.size();
            std::weak_ptr<state> weak = shared_from_this();
            const auto commit_time = cm.commit_time;
            const auto end_lsn = cm.end_lsn;
            auto done = [weak, count, commit_time, end_lsn](std::error_code e, std::uint64_t) {
                if (auto self = weak.lock())
                    asio::post(self->ioc, [self, e, count, commit_time, end_lsn] {
                        self->on_published(e, count, commit_time, end_lsn);
                    });
            };
            auto ec = n.notify_confirmed(std::move(batch), done);
            if (ec) {
                // The server's text forms are valid JSON where we send them
                // as JSON; should a type ever surprise us, the row goes
                // without data rather than blocking the stream.
                for (auto& row : batch) {
                    if (!validate(row)) continue;
                    report("a row of \"" + row.collection + "\" did not encode as valid JSON; sent without data or old");
                    row.data.reset();
                    row.data_omitted = true;
                    row.old.reset();
                }
                ec = n.notify_confirmed(std::move(batch), done);
            }
            if (ec) throw std::runtime_error("a change could not be published: " + ec.message());
            pending.push_back({cm.end_lsn, false, cm.commit_time});
            if (oldest_pending_us.load() == 0) oldest_pending_us.store(cm.commit_time);
            in_flight += count;
        }

        // --- the connection ---
        awaitable<void> session(std::promise<void>*& started) {
            sql = std::make_shared<pg::pg_connection>(ioc);
            co_await sql->connect(o.conninfo, false);
            bool recreated = false;
            tables = co_await pg::prepare(*sql, o, streamed_before, recreated);
            sql->close();
            sql.reset();
            // Set up: from here on, failures are retried, not thrown by start().
            streamed_before = true;
            if (started) std::exchange(started, nullptr)->set_value();
            if (recreated) {
                ++n_resyncs;
                report("replication slot \"" + o.slot + "\" was lost and made anew: clients resync");
                resync_clients();
            }

            auto c = std::make_shared<pg::pg_connection>(ioc);
            repl = c;
            co_await c->connect(o.conninfo, true);
            relations.clear();
            in_txn = false;
            txn.clear();
            const lsn from = recreated ? 0 : std::max(submitted_end, confirmed);
            co_await c->start_copy_both("START_REPLICATION SLOT " + core::quote_identifier(o.slot) +
                                        " LOGICAL " + pg::format_lsn(from) + " (proto_version '1', publication_names " +
                                        core::quote_literal(core::quote_identifier(o.publication)) +
                                        ")");
            connected = true;
            reached_stream = true;
            asio::co_spawn(ioc, status_ticker(shared_from_this(), c), asio::detached);

            std::string error;
            while (!stopping) {
                while (in_flight > max_in_flight && !stopping) {
                    resume.expires_at(asio::steady_timer::time_point::max());
                    boost::system::error_code ec;
                    co_await resume.async_wait(asio::redirect_error(use_awaitable, ec));
                }
                const std::string bytes = co_await c->read_copy();
                const auto env = pg::decode_envelope(bytes, error);
                if (!env) throw std::runtime_error("replication stream: " + error);
                if (auto* k = std::get_if<pg::keepalive>(&*env)) {
                    server_end = std::max(server_end, k->wal_end);
                    received = std::max(received, k->wal_end);
                    advance();
                    if (k->reply_requested) send_status(false);
                    continue;
                }
                const auto& d = std::get<pg::xlog_data>(*env);
                received = std::max(received, d.wal_end);
                received_lsn.store(received);
                const auto msg = pg::decode_message(d.payload, error);
                if (!msg) throw std::runtime_error("pgoutput: " + error);
                on_message(*msg);
            }
        }

        void resync_clients() {
            // Every client reloads; a broker that cannot restart its epoch
            // gets one `reset` per collection instead.
            std::weak_ptr<state> weak = shared_from_this();
            n.resync([weak](std::error_code ec) {
                if (!ec) return;
                auto self = weak.lock();
                if (!self) return;
                asio::post(self->ioc, [self] {
                    std::vector<notification> resets;
                    for (const auto& t : self->tables)
                        resets.push_back(reset_notification(t.collection));
                    (void)self->n.notify_confirmed(std::move(resets), nullptr);
                });
            });
        }

        static awaitable<void> run(std::shared_ptr<state> self, std::promise<void>* started) {
            auto backoff = self->o.reconnect_min;
            for (;;) {
                std::string what;
                try {
                    co_await self->session(started);
                } catch (const std::exception& e) {
                    what = e.what();
                }
                self->connected = false;
                // Stopping: stop()'s own work sends the last status on this
                // connection, then closes it.
                if (self->stopping) co_return;
                if (self->repl) self->repl->close();
                self->repl.reset();
                if (self->sql) self->sql->close();
                self->sql.reset();
                if (std::exchange(self->reached_stream, false)) backoff = self->o.reconnect_min;
                if (started) {  // set-up failed: start() throws
                    started->set_exception(std::make_exception_ptr(std::runtime_error(what)));
                    co_return;
                }
                self->report(what + "; reconnecting");
                self->backoff_timer.expires_after(backoff);
                boost::system::error_code ec;
                co_await self->backoff_timer.async_wait(asio::redirect_error(use_awaitable, ec));
                if (self->stopping) co_return;
                backoff = std::min(backoff * 2, self->o.reconnect_max);
            }
        }
    };

    std::shared_ptr<state> st;
    std::thread thread;
    std::mutex lifecycle;
};

postgres_source::postgres_source(notifier n, postgres_source_options opts) : impl_(std::make_unique<impl>()) {
    pg::validate(opts);
    impl_->st = std::make_shared<impl::state>(std::move(n), std::move(opts));
}

postgres_source::~postgres_source() { stop(); }

void postgres_source::start() {
    std::lock_guard lock(impl_->lifecycle);
    if (impl_->thread.joinable()) return;
    auto st = impl_->st;
    st->stopping = false;
    st->ioc.restart();
    std::promise<void> started;
    auto ready = started.get_future();
    asio::co_spawn(st->ioc, impl::state::run(st, &started), asio::detached);
    impl_->thread = std::thread([st] { st->ioc.run(); });
    try {
        ready.get();
    } catch (const std::exception& e) {
        impl_->thread.join();
        throw std::runtime_error(std::string("postgres: ") + e.what());
    }
}

void postgres_source::stop() {
    std::lock_guard lock(impl_->lifecycle);
    if (!impl_->thread.joinable()) return;
    auto st = impl_->st;
    // At once, not in the posted work: the stream loop may hand over
    // buffered transactions for a long time without yielding.
    st->stopping = true;
    asio::co_spawn(st->ioc, [st]() -> asio::awaitable<void> {
        // What was handed over gets a moment to be published, so that the
        // position told to the server covers it and the next start does not
        // repeat it (unless the hub itself is stopping).
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
        while (!st->pending.empty() && !st->hub_gone && std::chrono::steady_clock::now() < deadline) {
            st->resume.expires_at(deadline);
            boost::system::error_code ec;
            co_await st->resume.async_wait(asio::redirect_error(use_awaitable, ec));
        }
        st->advance();
        // Tell the server what is published, then end the stream and wait
        // (bounded) until the server ended it too: only then has it applied
        // the position, which the next start resumes from. Closing at once
        // could lose the update while the server is busy sending.
        if (auto c = st->repl; c && c->connected()) {
            asio::steady_timer guard(st->ioc, std::chrono::seconds(2));
            guard.async_wait([c](const boost::system::error_code& ec) {
                if (!ec) c->close();
            });
            try {
                co_await c->write_copy(pg::encode_status_update(st->received, st->confirmed, pg::pg_now_us(), false));
                co_await c->end_copy();
            } catch (const std::exception&) {
                // Best effort: the server keeps the last position it applied.
            }
            guard.cancel();
        }
        if (st->repl) st->repl->close();
        if (st->sql) st->sql->close();
        st->resume.cancel();
        st->backoff_timer.cancel();
        st->status_timer.cancel();
    }, asio::detached);
    impl_->thread.join();
    // Coroutines that were not resumed before the loop ran out of work.
    st->ioc.restart();
    st->ioc.poll();
}

void postgres_source::wake() noexcept {}

bool postgres_source::sync(std::chrono::milliseconds timeout) {
    auto st = impl_->st;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    // Where the server's WAL ends now: every commit before it must be handed over.
    lsn target = 0;
    {
        PGconn* c = PQconnectdb(st->o.conninfo.c_str());
        if (PQstatus(c) == CONNECTION_OK) {
            PGresult* r = PQexec(c, "SELECT pg_current_wal_flush_lsn()");
            if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
                target = pg::parse_lsn(PQgetvalue(r, 0, 0)).value_or(0);
            PQclear(r);
        }
        PQfinish(c);
        if (target == 0) return false;
    }
    std::unique_lock lock(st->m);
    while (st->confirmed_lsn.load() < target) {
        if (std::chrono::steady_clock::now() >= deadline || !impl_->thread.joinable()) return false;
        // Ask the server for a keepalive: its position tells us when we are idle past `target`.
        asio::post(st->ioc, [st] { st->send_status(true); });
        st->cv.wait_for(lock, std::chrono::milliseconds(20));
    }
    return true;
}

postgres_source_stats postgres_source::stats() const {
    const auto& st = *impl_->st;
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

std::string postgres_source::install_sql(const postgres_source_options& opts) {
    std::string out;
    for (const auto& s : pg::install_statements(opts)) out += s + ";\n";
    return out;
}

std::string postgres_source::uninstall_sql(const postgres_source_options& opts) {
    std::string out;
    for (const auto& s : pg::uninstall_statements(opts)) out += s + ";\n";
    return out;
}

namespace {

// Runs one setup coroutine on a loop of its own, for the blocking static calls.
template <class F>
void run_blocking(F body) {
    asio::io_context ioc;
    std::exception_ptr error;
    asio::co_spawn(ioc, body(ioc), [&](std::exception_ptr e) { error = e; });
    ioc.run();
    if (error) {
        try {
            std::rethrow_exception(error);
        } catch (const std::exception& e) {
            throw std::runtime_error(std::string("postgres: ") + e.what());
        }
    }
}

}  // namespace

void postgres_source::install(const postgres_source_options& opts) {
    pg::validate(opts);
    auto o = opts;
    o.install = true;
    run_blocking([&](asio::io_context& ioc) -> awaitable<void> {
        pg::pg_connection c(ioc);
        co_await c.connect(o.conninfo, false);
        bool recreated = false;
        co_await pg::prepare(c, o, false, recreated);
    });
}

void postgres_source::uninstall(const postgres_source_options& opts) {
    const auto statements = pg::uninstall_statements(opts);
    run_blocking([&](asio::io_context& ioc) -> awaitable<void> {
        pg::pg_connection c(ioc);
        co_await c.connect(opts.conninfo, false);
        // A source stopped a moment ago leaves its walsender releasing the
        // slot: give it up to 3 s (a running notifierd keeps it: the drop
        // then fails with the server's "is active for PID" message).
        const std::vector<std::string> slot{opts.slot};
        for (int i = 0; i < 100; ++i) {
            const auto r = co_await c.exec("SELECT active FROM pg_replication_slots WHERE slot_name = $1", slot);
            if (r.values.empty() || r.values[0][0] != "t") break;
            asio::steady_timer t(ioc, std::chrono::milliseconds(30));
            co_await t.async_wait(use_awaitable);
        }
        for (const auto& s : statements) co_await c.exec(s);
    });
}

}  // namespace notifier
