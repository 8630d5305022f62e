// SPDX-License-Identifier: MIT
#pragma once
// The running part of a postgres_source: one Asio loop on a thread of its
// own serves the replication stream, status updates and reconnection. The
// pure parts it drives: transaction_assembler (messages → transactions) and
// lsn_ledger (positions: what to skip, what to confirm).

#include <notifier/source/postgres_source.hpp>

#include "source/postgres/lsn_ledger.hpp"
#include "source/postgres/pg_connection.hpp"
#include "source/postgres/transaction_assembler.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>

namespace notifier {

struct postgres_source::impl : std::enable_shared_from_this<postgres_source::impl> {
    impl(notifier n_, postgres_source_options o_)
        : n(std::move(n_)), o(std::move(o_)), assembler(o.max_data_bytes) {}

    /// The reconnect loop: sessions until stopped. `started` is answered
    /// once the first set-up succeeded (or failed: start() throws).
    static boost::asio::awaitable<void> run(std::shared_ptr<impl> self, std::promise<void>* started);
    /// stop()'s work on the loop: gives what was handed over a moment to be
    /// published, tells the server the final position and ends the stream.
    static boost::asio::awaitable<void> shut_down(std::shared_ptr<impl> self);
    /// Sends a status update now (`reply`: ask the server for a keepalive).
    void send_status(bool reply);
    /// Counts and reports a runtime error.
    void report(const std::string& what);

    boost::asio::io_context ioc;
    notifier n;
    postgres_source_options o;
    std::atomic<bool> stopping{false};
    std::thread thread;
    std::mutex lifecycle;  // start()/stop()

    // --- loop thread only ---
    pg::transaction_assembler assembler;
    pg::lsn_ledger ledger;
    bool streamed_before = false;  // set up once: the slot existed
    bool reached_stream = false;   // the last session streamed: reconnect soon
    boost::asio::steady_timer resume{ioc};  // wakes a reader waiting for in_flight to drop
    boost::asio::steady_timer backoff_timer{ioc};
    boost::asio::steady_timer status_timer{ioc};
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
    std::mutex m;  // with cv: sync() waits for confirmed_lsn
    std::condition_variable cv;

private:
    void advance();
    void on_published(std::error_code ec, std::size_t count, std::int64_t commit_time, pg::lsn end_lsn);
    void hand_over(pg::committed_transaction t);
    void resync_clients();
    boost::asio::awaitable<void> session(std::promise<void>*& started);
    static boost::asio::awaitable<void> write_status(std::shared_ptr<impl> self, std::shared_ptr<pg::pg_connection> c);
    static boost::asio::awaitable<void> status_ticker(std::shared_ptr<impl> self, std::shared_ptr<pg::pg_connection> c);
};

}  // namespace notifier
