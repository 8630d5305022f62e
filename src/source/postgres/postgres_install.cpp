// SPDX-License-Identifier: MIT
// postgres_source's static members: install and uninstall, and the SQL they run.
#include <notifier/source/postgres_source.hpp>

#include "source/postgres/pg_connection.hpp"
#include "source/postgres/postgres_setup.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace notifier {

namespace asio = boost::asio;

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

void postgres_source::install(const postgres_source_options& opts) {
    pg::validate(opts);
    auto o = opts;
    o.install = true;
    pg::run_blocking([&](asio::io_context& ioc) -> asio::awaitable<void> {
        pg::pg_connection c(ioc);
        co_await c.connect(o.conninfo, false);
        bool recreated = false;
        co_await pg::prepare(c, o, false, recreated);
    });
}

void postgres_source::uninstall(const postgres_source_options& opts) {
    const auto statements = pg::uninstall_statements(opts);
    pg::run_blocking([&](asio::io_context& ioc) -> asio::awaitable<void> {
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
            co_await t.async_wait(asio::use_awaitable);
        }
        for (const auto& s : statements) co_await c.exec(s);
    });
}

}  // namespace notifier
