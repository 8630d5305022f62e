// SPDX-License-Identifier: MIT
#include "source/sqlite/sqlite_connection.hpp"

namespace notifier::source {

void check(sqlite3* db, int rc, std::string_view context) {
    if (rc == SQLITE_OK) return;
    const int code = db ? sqlite3_extended_errcode(db) : rc;
    std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    throw sqlite_error(code, msg + " (in: " + std::string(context.substr(0, 200)) + ")");
}

sqlite_connection::sqlite_connection(const std::string& path, std::chrono::milliseconds busy_timeout) {
    // NOMUTEX: a connection is used by one thread at a time.
    const int rc = sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) {
        std::string msg = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
        sqlite3_close(db_);
        db_ = nullptr;
        throw sqlite_error(rc, "cannot open " + path + ": " + msg);
    }
    sqlite3_extended_result_codes(db_, 1);
    sqlite3_busy_timeout(db_, static_cast<int>(busy_timeout.count()));
}

sqlite_connection::~sqlite_connection() { sqlite3_close_v2(db_); }

void sqlite_connection::exec(std::string_view sql) {
    const std::string s(sql);
    char* err = nullptr;
    const int rc = sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err);
    if (rc != SQLITE_OK) {
        std::string msg = err ? err : sqlite3_errstr(rc);
        sqlite3_free(err);
        throw sqlite_error(sqlite3_extended_errcode(db_), msg + " (in: " + s.substr(0, 200) + ")");
    }
}

void sqlite_connection::rollback_if_open() noexcept {
    if (!sqlite3_get_autocommit(db_)) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
}

}  // namespace notifier::source
