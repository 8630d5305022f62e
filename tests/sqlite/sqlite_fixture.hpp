// SPDX-License-Identifier: MIT
#pragma once
// Shared by the notifier::sqlite tests: a database file in a fresh temporary
// directory, a writer connection, a collector of emitted notifications with
// deadline-bound waits, and the sqlite3 shell as another process.

#include "support/collector.hpp"

#include <notifier/source/sqlite_source.hpp>

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace notifier::test {

using namespace std::chrono_literals;

/// Upper bound for any wait: generous, since nothing sleeps; a missing
/// notification costs this much only when something is broken.
inline constexpr auto wait_limit = 10s;

/// A writer connection of the test (not the source's).
class db_writer {
public:
    explicit db_writer(const std::string& path) {
        if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK)
            throw std::runtime_error("cannot open " + path);
        sqlite3_busy_timeout(db_, 10'000);
    }
    ~db_writer() { sqlite3_close_v2(db_); }
    db_writer(const db_writer&) = delete;
    db_writer& operator=(const db_writer&) = delete;

    /// Runs SQL that must succeed.
    void exec(const std::string& sql) {
        char* err = nullptr;
        if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
            std::string msg = err ? err : "?";
            sqlite3_free(err);
            throw std::runtime_error(msg + " in: " + sql);
        }
    }
    /// Runs SQL expected to fail; returns the error message.
    std::string exec_failing(const std::string& sql) {
        char* err = nullptr;
        const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
        std::string msg = err ? err : "";
        sqlite3_free(err);
        if (rc == SQLITE_OK) throw std::runtime_error("expected a failure from: " + sql);
        return msg;
    }
    /// The first column of the first row as an integer.
    std::int64_t scalar(const std::string& sql) {
        sqlite3_stmt* st = nullptr;
        if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) != SQLITE_OK)
            throw std::runtime_error(std::string(sqlite3_errmsg(db_)) + " in: " + sql);
        std::int64_t v = 0;
        if (sqlite3_step(st) == SQLITE_ROW) v = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        return v;
    }

private:
    sqlite3* db_ = nullptr;
};

inline notification make(std::string collection, std::string action, std::optional<std::string> id,
                         std::optional<std::string> data = std::nullopt, std::optional<std::string> old = std::nullopt) {
    return notification{.collection = std::move(collection),
                        .action = std::move(action),
                        .id = std::move(id),
                        .data = std::move(data),
                        .old = std::move(old)};
}

inline std::string describe(const std::vector<notification>& v) {
    std::string s;
    for (const auto& n : v)
        s += "  " + n.collection + " " + n.action + " " + n.id.value_or("-") + " " +
             (n.data_omitted ? std::string("(omitted)") : n.data.value_or("-")) + " old " + n.old.value_or("-") + "\n";
    return s;
}

/// A fresh directory per test, removed afterwards.
class temp_dir {
public:
    temp_dir() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "notifier-sqlite-XXXXXX").string();
        if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
        path_ = tmpl;
    }
    ~temp_dir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    std::string file(const std::string& name) const { return (path_ / name).string(); }

private:
    std::filesystem::path path_;
};

/// Runs SQL in the sqlite3 shell: another process writing the same file.
inline void sqlite3_shell(const std::string& path, const std::string& sql) {
    // .timeout: the shell must wait for the source's lock like any writer.
    std::string cmd = std::string(NOTIFIER_SQLITE3_SHELL) + " -bail -cmd '.timeout 10000' '" + path + "' \"" + sql +
                      "\" </dev/null";
    const int rc = std::system(cmd.c_str());
    if (rc != 0) throw std::runtime_error("sqlite3 shell failed (" + std::to_string(rc) + "): " + cmd);
}

}  // namespace notifier::test
