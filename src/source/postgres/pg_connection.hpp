// SPDX-License-Identifier: MIT
#pragma once
// One libpq connection driven by an Asio event loop: connecting, queries and
// the CopyBoth stream of logical replication, all non-blocking (libpq's
// asynchronous API, waiting on its socket with the loop). Errors throw
// std::runtime_error with the server's message.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

struct pg_conn;
struct pg_result;

namespace notifier::pg {

/// A query result: rows of text values (NULL → nullopt).
struct rows {
    std::vector<std::string> columns;
    std::vector<std::vector<std::optional<std::string>>> values;
};

class pg_connection {
public:
    explicit pg_connection(boost::asio::io_context& ioc) : ioc_(ioc) {}
    ~pg_connection();
    pg_connection(const pg_connection&) = delete;
    pg_connection& operator=(const pg_connection&) = delete;

    /// `conninfo` is a libpq connection string or URL; `replication` opens a
    /// walsender connection in database mode (SQL and START_REPLICATION).
    boost::asio::awaitable<void> connect(const std::string& conninfo, bool replication);
    /// Runs one statement (simple query protocol); the last result's rows.
    boost::asio::awaitable<rows> exec(const std::string& sql);
    /// Runs one statement with text parameters $1, $2, …
    boost::asio::awaitable<rows> exec(const std::string& sql, const std::vector<std::string>& params);

    /// Sends START_REPLICATION (or any command answering CopyBoth).
    boost::asio::awaitable<void> start_copy_both(const std::string& command);
    /// The next CopyData message of the stream; throws when it ends.
    boost::asio::awaitable<std::string> read_copy();
    /// Queues a CopyData message to the server and flushes it.
    boost::asio::awaitable<void> write_copy(const std::string& bytes);

    /// Queues a CopyData message and flushes what the socket takes now,
    /// without waiting (a last word before close()).
    void try_write_copy(const std::string& bytes) noexcept;
    /// Ends COPY BOTH from this side and reads (discarding) until the server
    /// ended it too: it has then processed everything sent before, such as
    /// the last status update.
    boost::asio::awaitable<void> end_copy();

    bool connected() const noexcept { return conn_ != nullptr; }
    void close() noexcept;

private:
    boost::asio::awaitable<void> wait_readable();
    boost::asio::awaitable<void> wait_writable();
    boost::asio::awaitable<void> flush();
    boost::asio::awaitable<rows> collect();
    [[noreturn]] void fail(const std::string& what);

    boost::asio::io_context& ioc_;
    pg_conn* conn_ = nullptr;
    std::unique_ptr<boost::asio::posix::stream_descriptor> socket_;
};

/// Runs one coroutine on a loop of its own until it is done, for the calls
/// that block (install, uninstall, sync). Rethrows its exception as
/// std::runtime_error prefixed "postgres: ".
void run_blocking(const std::function<boost::asio::awaitable<void>(boost::asio::io_context&)>& body);

}  // namespace notifier::pg
