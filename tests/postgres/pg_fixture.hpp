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

/// A fresh database `t_<name>` and a slot of the same name, both dropped
/// again by close() (or, best effort, the destructor).
class pg_database {
public:
    explicit pg_database(std::string name)
        : server_(pg_server_url()), name_("t_" + name.substr(0, 50)), admin_(server_ + "/postgres") {
        std::transform(name_.begin(), name_.end(), name_.begin(), [](unsigned char c) { return std::tolower(c); });
        close();
        admin_.exec("CREATE DATABASE " + name_);
        url_ = server_ + "/" + name_;
        open_ = true;
    }
    ~pg_database() {
        if (!open_) return;
        try {
            close();
        } catch (const std::exception& e) {
            ADD_FAILURE() << e.what();
        }
    }
    pg_database(const pg_database&) = delete;
    pg_database& operator=(const pg_database&) = delete;

    void close() {
        open_ = false;
        drop_slot();
        admin_.exec("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
    }
    /// Drops the slot, ending whoever streams from it. A killed walsender
    /// releases the slot asynchronously and PostgreSQL has no way to wait for
    /// it: poll, bounded.
    void drop_slot() {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        for (;;) {
            admin_.exec("SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = '" +
                        name_ + "' AND active_pid IS NOT NULL");
            admin_.exec("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '" +
                        name_ + "' AND NOT active");
            if (admin_.exec("SELECT count(*) FROM pg_replication_slots WHERE slot_name = '" + name_ + "'") == "0")
                return;
            if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("slot " + name_ + " stays active");
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
    }

    /// Options of a source on this database and its slot, installing, with
    /// short reconnection waits and errors kept quiet.
    postgres_source_options options(std::vector<std::string> tables) const {
        postgres_source_options o;
        o.conninfo = url_;
        o.tables = std::move(tables);
        o.slot = name_;
        o.publication = "notifier";
        o.install = true;
        o.reconnect_min = std::chrono::milliseconds(20);
        o.reconnect_max = std::chrono::milliseconds(200);
        o.on_error = [](std::string_view) {};
        return o;
    }

    const std::string& server() const noexcept { return server_; }
    const std::string& name() const noexcept { return name_; }
    const std::string& url() const noexcept { return url_; }
    pg_writer& admin() noexcept { return admin_; }

private:
    std::string server_, name_, url_;
    pg_writer admin_;
    bool open_ = false;
};

/// A fresh database named after the test, with its own slot name.
class pg_test : public ::testing::Test {
protected:
    void SetUp() override {
        database_ = std::make_unique<pg_database>(::testing::UnitTest::GetInstance()->current_test_info()->name());
        db_ = database_->name();
        url_ = database_->url();
        admin_ = &database_->admin();
    }
    void TearDown() override {
        source_.reset();
        if (database_) database_->close();
    }
    void drop_slot() { database_->drop_slot(); }
    postgres_source_options options(std::vector<std::string> tables) { return database_->options(std::move(tables)); }
    /// Starts a source emitting into `sink_`.
    postgres_source& start(postgres_source_options o) {
        source_ = std::make_unique<postgres_source>(sink_.make_notifier(), std::move(o));
        source_->start();
        return *source_;
    }

    std::unique_ptr<pg_database> database_;
    std::string db_, url_;
    pg_writer* admin_ = nullptr;
    collector sink_{std::chrono::seconds(30)};
    std::unique_ptr<postgres_source> source_;
};

}  // namespace notifier::test
