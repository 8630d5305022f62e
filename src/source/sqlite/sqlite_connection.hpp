// SPDX-License-Identifier: MIT
#pragma once
// One SQLite connection (RAII over sqlite3*). Private to notifier::sqlite.

#include "source/sqlite/sqlite_statement.hpp"

#include "core/sql_quote.hpp"

#include <sqlite3.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <string_view>

namespace notifier::source {

/// A failed SQLite call; `code` is the extended result code.
class sqlite_error : public std::runtime_error {
public:
    sqlite_error(int code, const std::string& what) : std::runtime_error(what), code_(code) {}
    int code() const noexcept { return code_; }
    /// Another connection held a lock longer than the busy timeout.
    bool busy() const noexcept { return (code_ & 0xff) == SQLITE_BUSY || (code_ & 0xff) == SQLITE_LOCKED; }

private:
    int code_;
};

/// Throws sqlite_error with the connection's message when rc is an error.
void check(sqlite3* db, int rc, std::string_view context);

class sqlite_connection {
public:
    /// Opens an existing database file read-write (never creates one).
    sqlite_connection(const std::string& path, std::chrono::milliseconds busy_timeout);
    ~sqlite_connection();
    sqlite_connection(const sqlite_connection&) = delete;
    sqlite_connection& operator=(const sqlite_connection&) = delete;

    sqlite3* get() const noexcept { return db_; }
    /// Runs one or more statements without results.
    void exec(std::string_view sql);
    sqlite_statement prepare(std::string_view sql) { return sqlite_statement(db_, sql); }
    /// Ends a transaction left open by a failure; never throws.
    void rollback_if_open() noexcept;

private:
    sqlite3* db_ = nullptr;
};

using core::quote_identifier;
using core::quote_literal;

}  // namespace notifier::source
