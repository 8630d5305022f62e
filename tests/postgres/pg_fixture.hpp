// SPDX-License-Identifier: MIT
#pragma once
// A database of its own per test on the throwaway PostgreSQL server that
// ctest starts (tests/postgres/pg_scratch, fixture `postgres`), a blocking
// libpq writer, and a notifier sink that collects what a source emits.

#include "support/collector.hpp"

#include <notifier/source/postgres_source.hpp>

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace notifier::test {

/// The server's URL without a database: NOTIFIER_TEST_PG (set by ctest).
inline std::string pg_server_url() {
    const char* u = std::getenv("NOTIFIER_TEST_PG");
    if (!u) throw std::runtime_error("NOTIFIER_TEST_PG is not set: run through ctest (fixture `postgres`)");
    return u;
}

/// One blocking connection; throws with the server's message.
class pg_writer {
public:
    explicit pg_writer(const std::string& conninfo) : c_(PQconnectdb(conninfo.c_str())) {
        if (PQstatus(c_) != CONNECTION_OK) {
            std::string why = PQerrorMessage(c_);
            PQfinish(c_);
            throw std::runtime_error("connect: " + why);
        }
    }
    ~pg_writer() { PQfinish(c_); }
    pg_writer(const pg_writer&) = delete;
    pg_writer& operator=(const pg_writer&) = delete;

    /// Runs `sql`; returns the first column of the first row of the last result ("" if none).
    std::string exec(const std::string& sql) {
        PGresult* r = PQexec(c_, sql.c_str());
        const auto st = PQresultStatus(r);
        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
            std::string why = PQresultErrorMessage(r);
            PQclear(r);
            throw std::runtime_error(sql.substr(0, 200) + ": " + why);
        }
        std::string out = st == PGRES_TUPLES_OK && PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : "";
        PQclear(r);
        return out;
    }

private:
    PGconn* c_;
};

/// A fresh database named after the test, with its own slot name.
class pg_test : public ::testing::Test {
protected:
    void SetUp() override {
        std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
        std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
        db_ = "t_" + name.substr(0, 50);
        server_ = pg_server_url();
        admin_ = std::make_unique<pg_writer>(server_ + "/postgres");
        drop_slot();
        admin_->exec("DROP DATABASE IF EXISTS " + db_ + " WITH (FORCE)");
        admin_->exec("CREATE DATABASE " + db_);
        url_ = server_ + "/" + db_;
    }
    void TearDown() override {
        source_.reset();
        if (!admin_) return;  // SetUp failed before connecting
        drop_slot();
        admin_->exec("DROP DATABASE IF EXISTS " + db_ + " WITH (FORCE)");
    }
    /// Drops the test's slot, ending whoever streams from it. A killed
    /// walsender releases the slot asynchronously and PostgreSQL has no way to
    /// wait for it: poll, bounded.
    void drop_slot() {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        for (;;) {
            admin_->exec("SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = '" +
                         db_ + "' AND active_pid IS NOT NULL");
            admin_->exec("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '" +
                         db_ + "' AND NOT active");
            if (admin_->exec("SELECT count(*) FROM pg_replication_slots WHERE slot_name = '" + db_ + "'") == "0") return;
            if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("slot " + db_ + " stays active");
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
    }

    postgres_source_options options(std::vector<std::string> tables) {
        postgres_source_options o;
        o.conninfo = url_;
        o.tables = std::move(tables);
        o.slot = db_;
        o.publication = "notifier";
        o.install = true;
        o.reconnect_min = std::chrono::milliseconds(20);
        o.reconnect_max = std::chrono::milliseconds(200);
        o.on_error = [](std::string_view) {};
        return o;
    }
    /// Starts a source emitting into `sink_`.
    postgres_source& start(postgres_source_options o) {
        source_ = std::make_unique<postgres_source>(sink_.make_notifier(), std::move(o));
        source_->start();
        return *source_;
    }

    std::string server_, db_, url_;
    std::unique_ptr<pg_writer> admin_;
    collector sink_{std::chrono::seconds(30)};
    std::unique_ptr<postgres_source> source_;
};

}  // namespace notifier::test
