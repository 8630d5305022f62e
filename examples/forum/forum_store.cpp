// SPDX-License-Identifier: MIT
#include "forum_store.hpp"

#include <sqlite3.h>

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace forum {

namespace {

const char* schema = R"sql(
-- WAL: the change capture reads while the API writes, without blocking it.
PRAGMA journal_mode = WAL;
CREATE TABLE IF NOT EXISTS forums (
  id INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: a deleted id stays dead for clients
  name TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS posts (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  forum_id INTEGER NOT NULL REFERENCES forums (id) ON DELETE CASCADE,
  title TEXT NOT NULL,
  body TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS posts_by_forum ON posts (forum_id);
)sql";

[[noreturn]] void fail(sqlite3* db, std::string_view what) {
    throw std::runtime_error(std::string(what) + ": " + sqlite3_errmsg(db));
}

// A prepared statement for one call.
class statement {
public:
    statement(sqlite3* db, std::string_view sql) : db_(db) {
        if (sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &st_, nullptr) != SQLITE_OK)
            fail(db, "prepare");
    }
    ~statement() { sqlite3_finalize(st_); }
    statement(const statement&) = delete;
    statement& operator=(const statement&) = delete;

    statement& bind(int i, std::int64_t v) {
        sqlite3_bind_int64(st_, i, v);
        return *this;
    }
    statement& bind(int i, const std::string& v) {
        sqlite3_bind_text(st_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
        return *this;
    }
    bool step() {
        const int rc = sqlite3_step(st_);
        if (rc == SQLITE_ROW) return true;
        if (rc == SQLITE_DONE) return false;
        fail(db_, "step");
    }
    /// The one row the statement returns, read by `read`, then the statement
    /// run to its end (which commits a write); nullopt when it returns none.
    template <class Row>
    std::optional<Row> one(Row (*read)(statement&)) {
        if (!step()) return std::nullopt;
        auto row = read(*this);
        step();
        return row;
    }
    /// Every row the statement returns.
    template <class Row>
    std::vector<Row> all(Row (*read)(statement&)) {
        std::vector<Row> out;
        while (step()) out.push_back(read(*this));
        return out;
    }
    /// Runs a write that returns no rows; whether it changed any.
    bool changed_rows() {
        step();
        return sqlite3_changes(db_) > 0;
    }
    std::int64_t integer(int i) { return sqlite3_column_int64(st_, i); }
    std::string text(int i) {
        const auto* p = sqlite3_column_text(st_, i);
        return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(st_, i)))
                 : std::string();
    }

private:
    sqlite3* db_;
    sqlite3_stmt* st_ = nullptr;
};

// The columns each reader expects, in its order.
const std::string forum_columns = "id, name";
const std::string post_columns = "id, forum_id, title, body";
forum_row read_forum(statement& s) { return {s.integer(0), s.text(1)}; }
post_row read_post(statement& s) { return {s.integer(0), s.integer(1), s.text(2), s.text(3)}; }

}  // namespace

forum_store::forum_store(const std::string& path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK) {
        std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
        sqlite3_close(db_);
        throw std::runtime_error("cannot open " + path + ": " + msg);
    }
    // The capture and other processes (the sqlite3 shell) take the write
    // lock briefly: wait for it instead of failing.
    sqlite3_busy_timeout(db_, 5000);
    char* err = nullptr;
    // synchronous=FULL: a commit is on disk before anyone, the change capture
    // included, can see it. foreign_keys: deleting a forum deletes its posts.
    if (sqlite3_exec(db_, "PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;", nullptr, nullptr, &err) != SQLITE_OK ||
        sqlite3_exec(db_, schema, nullptr, nullptr, &err) != SQLITE_OK) {
        std::string msg = err ? err : "?";
        sqlite3_free(err);
        sqlite3_close(db_);
        throw std::runtime_error("cannot create the schema in " + path + ": " + msg);
    }
}

forum_store::~forum_store() { sqlite3_close_v2(db_); }

std::vector<forum_row> forum_store::list_forums() {
    return statement(db_, "SELECT " + forum_columns + " FROM forums ORDER BY id").all(read_forum);
}

std::optional<forum_row> forum_store::find_forum(std::int64_t id) {
    return statement(db_, "SELECT " + forum_columns + " FROM forums WHERE id = ?1").bind(1, id).one(read_forum);
}

forum_row forum_store::create_forum(const std::string& name) {
    auto row = statement(db_, "INSERT INTO forums (name) VALUES (?1) RETURNING " + forum_columns)
                   .bind(1, name)
                   .one(read_forum);
    if (!row) fail(db_, "insert forum");
    return *row;
}

std::optional<forum_row> forum_store::update_forum(std::int64_t id, const std::string& name) {
    return statement(db_, "UPDATE forums SET name = ?2 WHERE id = ?1 RETURNING " + forum_columns)
        .bind(1, id)
        .bind(2, name)
        .one(read_forum);
}

bool forum_store::delete_forum(std::int64_t id) {
    return statement(db_, "DELETE FROM forums WHERE id = ?1").bind(1, id).changed_rows();
}

std::vector<post_row> forum_store::list_posts(std::optional<std::int64_t> forum_id) {
    statement s(db_, "SELECT " + post_columns + " FROM posts" + (forum_id ? " WHERE forum_id = ?1" : "") +
                         " ORDER BY id");
    if (forum_id) s.bind(1, *forum_id);
    return s.all(read_post);
}

std::optional<post_row> forum_store::find_post(std::int64_t id) {
    return statement(db_, "SELECT " + post_columns + " FROM posts WHERE id = ?1").bind(1, id).one(read_post);
}

std::optional<post_row> forum_store::create_post(const post_row& p) {
    // The existence check and the insert are one statement: no forum can
    // vanish in between.
    return statement(db_, "INSERT INTO posts (forum_id, title, body) SELECT id, ?2, ?3 FROM forums WHERE id = ?1 "
                          "RETURNING " + post_columns)
        .bind(1, p.forum_id)
        .bind(2, p.title)
        .bind(3, p.body)
        .one(read_post);
}

std::optional<post_row> forum_store::update_post(const post_row& p) {
    return statement(db_, "UPDATE posts SET forum_id = ?2, title = ?3, body = ?4 "
                          "WHERE id = ?1 AND EXISTS (SELECT 1 FROM forums WHERE id = ?2) "
                          "RETURNING " + post_columns)
        .bind(1, p.id)
        .bind(2, p.forum_id)
        .bind(3, p.title)
        .bind(4, p.body)
        .one(read_post);
}

bool forum_store::delete_post(std::int64_t id) {
    return statement(db_, "DELETE FROM posts WHERE id = ?1").bind(1, id).changed_rows();
}

}  // namespace forum
