// SPDX-License-Identifier: MIT
#include "source/postgres/postgres_source_impl.hpp"

#include "core/sql_quote.hpp"
#include "source/postgres/postgres_setup.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <stdexcept>
#include <utility>
#include <vector>

namespace notifier {

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;

namespace {

// Notifications handed to the hub and not yet published: above it the
// source stops reading, and the slot holds the rest on the server.
constexpr std::size_t max_in_flight = 100'000;

}  // namespace

void postgres_source::impl::report(const std::string& what) {
    ++n_errors;
    if (o.on_error)
        o.on_error(what);
    else
        n.log(log_level::warn, "source_error", "postgres", what);
}

// --- confirming ---

void postgres_source::impl::advance() {
    const bool moved = ledger.advance(assembler.in_transaction());
    oldest_pending_us.store(ledger.oldest_pending_commit_time());
    if (!moved) return;
    {
        std::lock_guard lock(m);
        confirmed_lsn.store(ledger.confirmed());
    }
    cv.notify_all();
}

void postgres_source::impl::on_published(std::error_code ec, std::size_t count, std::int64_t commit_time,
                                         pg::lsn end_lsn) {
    if (ec) {  // the hub stopped: keep the position
        hub_gone = true;
        resume.cancel();
        return;
    }
    ledger.published(end_lsn, count);
    ++n_transactions;
    n_changes += count;
    last_delay_ms.store(static_cast<double>(pg::pg_now_us() - commit_time) / 1000.0);
    resume.cancel();
    advance();
}

void postgres_source::impl::hand_over(pg::committed_transaction t) {
    if (!ledger.take(t.end_lsn)) return;  // sent again after a reconnect: handed over already
    if (t.changes.empty()) {
        ledger.handed_over(t.end_lsn, t.commit_time, 0);
        return advance();
    }
    const std::size_t count = t.changes.size();
    std::weak_ptr<impl> weak = shared_from_this();
    const auto commit_time = t.commit_time;
    const auto end_lsn = t.end_lsn;
    auto done = [weak, count, commit_time, end_lsn](std::error_code e, std::uint64_t) {
        if (auto self = weak.lock())
            asio::post(self->ioc, [self, e, count, commit_time, end_lsn] {
                self->on_published(e, count, commit_time, end_lsn);
            });
    };
    auto& batch = t.changes;
    auto ec = n.notify_confirmed(std::move(batch), done);
    if (ec) {
        // The server's text forms are valid JSON where we send them as JSON;
        // should a type ever surprise us, the row goes without data rather
        // than blocking the stream.
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
    ledger.handed_over(end_lsn, commit_time, count);
    if (oldest_pending_us.load() == 0) oldest_pending_us.store(commit_time);
}

// --- status updates ---

void postgres_source::impl::send_status(bool reply) {
    status_reply = status_reply || reply;
    if (!repl) return;
    if (status_writing) {
        status_again = true;
        return;
    }
    status_writing = true;
    asio::co_spawn(ioc, write_status(shared_from_this(), repl), asio::detached);
}

awaitable<void> postgres_source::impl::write_status(std::shared_ptr<impl> self, std::shared_ptr<pg::pg_connection> c) {
    try {
        do {
            self->status_again = false;
            const bool reply = std::exchange(self->status_reply, false);
            co_await c->write_copy(pg::encode_status_update(self->ledger.received(), self->ledger.confirmed(),
                                                            pg::pg_now_us(), reply));
        } while (self->status_again && c == self->repl);
    } catch (const std::exception&) {
        // The reader sees the broken connection and reconnects.
    }
    self->status_writing = false;
}

awaitable<void> postgres_source::impl::status_ticker(std::shared_ptr<impl> self, std::shared_ptr<pg::pg_connection> c) {
    while (!self->stopping && c == self->repl) {
        self->status_timer.expires_after(self->o.status_interval);
        boost::system::error_code ec;
        co_await self->status_timer.async_wait(asio::redirect_error(use_awaitable, ec));
        if (self->stopping || c != self->repl) break;
        self->send_status(false);
    }
}

// --- the connection ---

awaitable<void> postgres_source::impl::session(std::promise<void>*& started) {
    sql = std::make_shared<pg::pg_connection>(ioc);
    co_await sql->connect(o.conninfo, false);
    bool recreated = false;
    assembler.watch(co_await pg::prepare(*sql, o, streamed_before, recreated));
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
    assembler.restart();
    const pg::lsn from = recreated ? 0 : ledger.resume_from();
    co_await c->start_copy_both("START_REPLICATION SLOT " + core::quote_identifier(o.slot) + " LOGICAL " +
                                pg::format_lsn(from) + " (proto_version '1', publication_names " +
                                core::quote_literal(core::quote_identifier(o.publication)) + ")");
    connected = true;
    reached_stream = true;
    asio::co_spawn(ioc, status_ticker(shared_from_this(), c), asio::detached);

    std::string error;
    while (!stopping) {
        while (ledger.in_flight() > max_in_flight && !stopping) {
            resume.expires_at(asio::steady_timer::time_point::max());
            boost::system::error_code ec;
            co_await resume.async_wait(asio::redirect_error(use_awaitable, ec));
        }
        const std::string bytes = co_await c->read_copy();
        const auto env = pg::decode_envelope(bytes, error);
        if (!env) throw std::runtime_error("replication stream: " + error);
        if (auto* k = std::get_if<pg::keepalive>(&*env)) {
            ledger.keepalive(k->wal_end);
            advance();
            if (k->reply_requested) send_status(false);
            continue;
        }
        const auto& d = std::get<pg::xlog_data>(*env);
        ledger.received(d.wal_end);
        received_lsn.store(ledger.received());
        const auto msg = pg::decode_message(d.payload, error);
        if (!msg) throw std::runtime_error("pgoutput: " + error);
        if (auto t = assembler.add(*msg)) hand_over(std::move(*t));
    }
}

void postgres_source::impl::resync_clients() {
    // Every client reloads; a broker that cannot restart its epoch gets one
    // `reset` per collection instead.
    std::weak_ptr<impl> weak = shared_from_this();
    n.resync([weak](std::error_code ec) {
        if (!ec) return;
        auto self = weak.lock();
        if (!self) return;
        asio::post(self->ioc, [self] {
            std::vector<notification> resets;
            for (const auto& t : self->assembler.tables()) resets.push_back(reset_notification(t.collection));
            (void)self->n.notify_confirmed(std::move(resets), nullptr);
        });
    });
}

awaitable<void> postgres_source::impl::run(std::shared_ptr<impl> self, std::promise<void>* started) {
    auto backoff = self->o.reconnect_min;
    for (;;) {
        std::string what;
        try {
            co_await self->session(started);
        } catch (const std::exception& e) {
            what = e.what();
        }
        self->connected = false;
        // Stopping: shut_down() sends the last status on this connection,
        // then closes it.
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

awaitable<void> postgres_source::impl::shut_down(std::shared_ptr<impl> self) {
    // What was handed over gets a moment to be published, so that the
    // position told to the server covers it and the next start does not
    // repeat it (unless the hub itself is stopping).
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (!self->ledger.idle() && !self->hub_gone && std::chrono::steady_clock::now() < deadline) {
        self->resume.expires_at(deadline);
        boost::system::error_code ec;
        co_await self->resume.async_wait(asio::redirect_error(use_awaitable, ec));
    }
    self->advance();
    // Tell the server what is published, then end the stream and wait
    // (bounded) until the server ended it too: only then has it applied the
    // position, which the next start resumes from. Closing at once could
    // lose the update while the server is busy sending.
    if (auto c = self->repl; c && c->connected()) {
        asio::steady_timer guard(self->ioc, std::chrono::seconds(2));
        guard.async_wait([c](const boost::system::error_code& ec) {
            if (!ec) c->close();
        });
        try {
            co_await c->write_copy(pg::encode_status_update(self->ledger.received(), self->ledger.confirmed(),
                                                            pg::pg_now_us(), false));
            co_await c->end_copy();
        } catch (const std::exception&) {
            // Best effort: the server keeps the last position it applied.
        }
        guard.cancel();
    }
    if (self->repl) self->repl->close();
    if (self->sql) self->sql->close();
    self->resume.cancel();
    self->backoff_timer.cancel();
    self->status_timer.cancel();
}

}  // namespace notifier
