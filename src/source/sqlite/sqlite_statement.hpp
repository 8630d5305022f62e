// SPDX-License-Identifier: MIT
#pragma once
// A prepared statement (RAII over sqlite3_stmt). Private to notifier::sqlite.

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace notifier::source {

class sqlite_statement {
public:
    sqlite_statement(sqlite3* db, std::string_view sql);
    ~sqlite_statement();
    sqlite_statement(sqlite_statement&& o) noexcept : db_(o.db_), stmt_(o.stmt_) { o.stmt_ = nullptr; }
    sqlite_statement& operator=(sqlite_statement&&) = delete;
    sqlite_statement(const sqlite_statement&) = delete;
    sqlite_statement& operator=(const sqlite_statement&) = delete;

    sqlite_statement& bind(int index, std::int64_t v);
    sqlite_statement& bind(int index, std::string_view v);

    /// True while a row is available; throws sqlite_error on failure.
    bool step();
    /// Ready for another run (keeps the bindings).
    void reset() noexcept;

    int column_type(int i) const { return sqlite3_column_type(stmt_, i); }
    std::int64_t column_int(int i) const { return sqlite3_column_int64(stmt_, i); }
    std::string column_text(int i) const;
    std::optional<std::string> column_optional_text(int i) const;
    /// The value rendered as text: integers in decimal, BLOBs in hex, NULL
    /// as nullopt.
    std::optional<std::string> column_as_text(int i) const;

private:
    sqlite3* db_;
    sqlite3_stmt* stmt_ = nullptr;
};

}  // namespace notifier::source
