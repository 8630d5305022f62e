// SPDX-License-Identifier: MIT
#include "source/sqlite/sqlite_statement.hpp"

#include "source/sqlite/sqlite_connection.hpp"

namespace notifier::source {

sqlite_statement::sqlite_statement(sqlite3* db, std::string_view sql) : db_(db) {
    check(db_, sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt_, nullptr), sql);
}

sqlite_statement::~sqlite_statement() { sqlite3_finalize(stmt_); }

sqlite_statement& sqlite_statement::bind(int index, std::int64_t v) {
    check(db_, sqlite3_bind_int64(stmt_, index, v), "bind");
    return *this;
}

sqlite_statement& sqlite_statement::bind(int index, std::string_view v) {
    check(db_, sqlite3_bind_text(stmt_, index, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT), "bind");
    return *this;
}

bool sqlite_statement::step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    // The statement must be reset before the connection can run it again.
    const std::string sql = sqlite3_sql(stmt_) ? sqlite3_sql(stmt_) : "";
    const int code = sqlite3_extended_errcode(db_);
    std::string msg = sqlite3_errmsg(db_);
    sqlite3_reset(stmt_);
    throw sqlite_error(code, msg + " (in: " + sql.substr(0, 200) + ")");
}

void sqlite_statement::reset() noexcept { sqlite3_reset(stmt_); }

std::string sqlite_statement::column_text(int i) const {
    const auto* p = sqlite3_column_text(stmt_, i);
    const int n = sqlite3_column_bytes(stmt_, i);
    return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n)) : std::string();
}

std::optional<std::string> sqlite_statement::column_optional_text(int i) const {
    if (column_type(i) == SQLITE_NULL) return std::nullopt;
    return column_text(i);
}

std::optional<std::string> sqlite_statement::column_as_text(int i) const {
    switch (column_type(i)) {
    case SQLITE_NULL:
        return std::nullopt;
    case SQLITE_INTEGER:
        return std::to_string(column_int(i));
    case SQLITE_BLOB: {
        static constexpr char digits[] = "0123456789ABCDEF";
        const auto* p = static_cast<const unsigned char*>(sqlite3_column_blob(stmt_, i));
        const int n = sqlite3_column_bytes(stmt_, i);
        std::string out;
        out.reserve(static_cast<std::size_t>(n) * 2);
        for (int k = 0; k < n; ++k) {
            out.push_back(digits[p[k] >> 4]);
            out.push_back(digits[p[k] & 15]);
        }
        return out;
    }
    default:  // TEXT, and REAL in SQLite's own rendering
        return column_text(i);
    }
}

}  // namespace notifier::source
