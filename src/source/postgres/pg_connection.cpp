// SPDX-License-Identifier: MIT
#include "source/postgres/pg_connection.hpp"

#include <libpq-fe.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>

namespace notifier::pg {

namespace asio = boost::asio;

namespace {

struct result_deleter {
    void operator()(PGresult* r) const noexcept { PQclear(r); }
};
using result_ptr = std::unique_ptr<PGresult, result_deleter>;

std::string trimmed(const char* msg) {
    std::string s = msg ? msg : "";
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
}

}  // namespace

pg_connection::~pg_connection() { close(); }

void pg_connection::close() noexcept {
    if (socket_) {
        socket_->release();  // libpq owns the descriptor
        socket_.reset();
    }
    if (conn_) {
        PQfinish(conn_);
        conn_ = nullptr;
    }
}

void pg_connection::fail(const std::string& what) {
    std::string msg = what;
    if (conn_) {
        const std::string server = trimmed(PQerrorMessage(conn_));
        if (!server.empty()) msg += ": " + server;
    }
    throw std::runtime_error(msg);
}

asio::awaitable<void> pg_connection::wait_readable() {
    co_await socket_->async_wait(asio::posix::stream_descriptor::wait_read, asio::use_awaitable);
}

asio::awaitable<void> pg_connection::wait_writable() {
    co_await socket_->async_wait(asio::posix::stream_descriptor::wait_write, asio::use_awaitable);
}

asio::awaitable<void> pg_connection::connect(const std::string& conninfo, bool replication) {
    close();
    // libpq's non-blocking connect ignores connect_timeout: a server that
    // accepts TCP and never answers would hang us. Enforced here, from the
    // connection string's connect_timeout (default 10 s).
    int timeout_s = 10;
    char* parse_error = nullptr;
    if (PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &parse_error)) {
        for (auto* o = options; o->keyword; ++o)
            if (std::strcmp(o->keyword, "connect_timeout") == 0 && o->val && std::atoi(o->val) > 0)
                timeout_s = std::atoi(o->val);
        PQconninfoFree(options);
    }
    if (parse_error) PQfreemem(parse_error);
    const std::string timeout_text = std::to_string(timeout_s);
    // Keywords after dbname override what the expanded connection string says.
    std::vector<const char*> keys{"dbname", "client_encoding", "application_name", "connect_timeout"};
    std::vector<const char*> vals{conninfo.c_str(), "UTF8", "notifierd", timeout_text.c_str()};
    if (replication) {
        keys.push_back("replication");
        vals.push_back("database");
    }
    keys.push_back(nullptr);
    vals.push_back(nullptr);
    conn_ = PQconnectStartParams(keys.data(), vals.data(), 1);
    if (!conn_) throw std::runtime_error("out of memory");
    if (PQstatus(conn_) == CONNECTION_BAD) fail("cannot connect to PostgreSQL");
    auto timed_out = std::make_shared<bool>(false);
    asio::steady_timer deadline(ioc_, std::chrono::seconds(timeout_s));
    deadline.async_wait([this, timed_out](const boost::system::error_code& ec) {
        if (ec) return;
        *timed_out = true;
        if (socket_) socket_->cancel();
    });
    PostgresPollingStatusType poll = PGRES_POLLING_WRITING;
    while (poll != PGRES_POLLING_OK) {
        if (poll == PGRES_POLLING_FAILED) fail("cannot connect to PostgreSQL");
        // The socket may change between attempts (several hosts, SSL retry).
        if (socket_) socket_->release();
        socket_ = std::make_unique<asio::posix::stream_descriptor>(ioc_, PQsocket(conn_));
        boost::system::error_code ec;
        if (poll == PGRES_POLLING_READING)
            co_await socket_->async_wait(asio::posix::stream_descriptor::wait_read, asio::redirect_error(asio::use_awaitable, ec));
        else
            co_await socket_->async_wait(asio::posix::stream_descriptor::wait_write, asio::redirect_error(asio::use_awaitable, ec));
        if (*timed_out)
            fail("PostgreSQL did not complete the connection within " + timeout_text + " s (connect_timeout)");
        if (ec) fail("cannot connect to PostgreSQL: " + ec.message());
        poll = PQconnectPoll(conn_);
    }
    deadline.cancel();
    if (PQsetnonblocking(conn_, 1) != 0) fail("cannot make the connection non-blocking");
    socket_->release();
    socket_ = std::make_unique<asio::posix::stream_descriptor>(ioc_, PQsocket(conn_));
}

asio::awaitable<void> pg_connection::flush() {
    for (;;) {
        const int r = PQflush(conn_);
        if (r == 0) co_return;
        if (r < 0) fail("cannot send to PostgreSQL");
        co_await wait_writable();
        if (!PQconsumeInput(conn_)) fail("connection to PostgreSQL lost");  // the server may be sending too
    }
}

asio::awaitable<rows> pg_connection::collect() {
    co_await flush();
    rows out;
    std::string error;
    for (;;) {
        while (PQisBusy(conn_)) {
            co_await wait_readable();
            if (!PQconsumeInput(conn_)) fail("connection to PostgreSQL lost");
        }
        result_ptr r(PQgetResult(conn_));
        if (!r) break;
        const auto st = PQresultStatus(r.get());
        if (st == PGRES_COPY_BOTH) co_return out;  // the caller streams now
        if (st == PGRES_TUPLES_OK) {
            out = rows{};
            const int nf = PQnfields(r.get()), nt = PQntuples(r.get());
            for (int f = 0; f < nf; ++f) out.columns.emplace_back(PQfname(r.get(), f));
            for (int t = 0; t < nt; ++t) {
                auto& row = out.values.emplace_back();
                for (int f = 0; f < nf; ++f) {
                    if (PQgetisnull(r.get(), t, f))
                        row.emplace_back(std::nullopt);
                    else
                        row.emplace_back(std::string(PQgetvalue(r.get(), t, f), PQgetlength(r.get(), t, f)));
                }
            }
        } else if (st != PGRES_COMMAND_OK && st != PGRES_EMPTY_QUERY && error.empty()) {
            error = trimmed(PQresultErrorMessage(r.get()));
        }
    }
    if (!error.empty()) throw std::runtime_error(error);
    co_return out;
}

asio::awaitable<rows> pg_connection::exec(const std::string& sql) {
    if (!PQsendQuery(conn_, sql.c_str())) fail("cannot send a query");
    co_return co_await collect();
}

asio::awaitable<rows> pg_connection::exec(const std::string& sql, const std::vector<std::string>& params) {
    std::vector<const char*> values;
    for (const auto& p : params) values.push_back(p.c_str());
    if (!PQsendQueryParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(), nullptr,
                           nullptr, 0))
        fail("cannot send a query");
    co_return co_await collect();
}

asio::awaitable<void> pg_connection::start_copy_both(const std::string& command) {
    if (!PQsendQuery(conn_, command.c_str())) fail("cannot send " + command);
    co_await flush();
    for (;;) {
        while (PQisBusy(conn_)) {
            co_await wait_readable();
            if (!PQconsumeInput(conn_)) fail("connection to PostgreSQL lost");
        }
        result_ptr r(PQgetResult(conn_));
        if (!r) throw std::runtime_error("the server did not start streaming");
        if (PQresultStatus(r.get()) == PGRES_COPY_BOTH) co_return;
        throw std::runtime_error(trimmed(PQresultErrorMessage(r.get())));
    }
}

asio::awaitable<std::string> pg_connection::read_copy() {
    for (;;) {
        char* buf = nullptr;
        const int n = PQgetCopyData(conn_, &buf, 1);
        if (n > 0) {
            std::string out(buf, static_cast<std::size_t>(n));
            PQfreemem(buf);
            co_return out;
        }
        if (n == 0) {
            co_await wait_readable();
            if (!PQconsumeInput(conn_)) fail("connection to PostgreSQL lost");
            continue;
        }
        if (n == -1) {
            // The stream ended: the final result says why.
            std::string why = "the server ended the replication stream";
            while (result_ptr r{PQgetResult(conn_)}) {
                const std::string m = trimmed(PQresultErrorMessage(r.get()));
                if (!m.empty()) why = m;
            }
            throw std::runtime_error(why);
        }
        fail("replication stream failed");
    }
}

asio::awaitable<void> pg_connection::write_copy(const std::string& bytes) {
    for (;;) {
        const int r = PQputCopyData(conn_, bytes.data(), static_cast<int>(bytes.size()));
        if (r == 1) break;
        if (r < 0) fail("cannot send to PostgreSQL");
        co_await wait_writable();  // 0: the buffer is full
    }
    co_await flush();
}

asio::awaitable<void> pg_connection::end_copy() {
    for (;;) {
        const int r = PQputCopyEnd(conn_, nullptr);
        if (r == 1) break;
        if (r < 0) fail("cannot end the replication stream");
        co_await wait_writable();
    }
    co_await flush();
    for (;;) {
        char* buf = nullptr;
        const int n = PQgetCopyData(conn_, &buf, 1);
        if (n > 0) {  // the stream's tail, not wanted any more
            PQfreemem(buf);
            continue;
        }
        if (n == 0) {
            co_await wait_readable();
            if (!PQconsumeInput(conn_)) fail("connection to PostgreSQL lost");
            continue;
        }
        break;  // the server ended the copy as well
    }
    while (result_ptr r{PQgetResult(conn_)}) {
    }
}

void pg_connection::try_write_copy(const std::string& bytes) noexcept {
    if (!conn_) return;
    if (PQputCopyData(conn_, bytes.data(), static_cast<int>(bytes.size())) == 1) PQflush(conn_);
}

void run_blocking(const std::function<asio::awaitable<void>(asio::io_context&)>& body) {
    asio::io_context ioc;
    std::exception_ptr error;
    asio::co_spawn(ioc, body(ioc), [&](std::exception_ptr e) { error = e; });
    ioc.run();
    if (!error) return;
    try {
        std::rethrow_exception(error);
    } catch (const std::exception& e) {
        throw std::runtime_error(std::string("postgres: ") + e.what());
    }
}

}  // namespace notifier::pg
