// SPDX-License-Identifier: MIT
#include "forum_store.hpp"

#include <sqlite3.h>

#include <stdexcept>
#include <string_view>

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
    statement s(db_, "SELECT id, name FROM forums ORDER BY id");
    std::vector<forum_row> out;
    while (s.step()) out.push_back(read_forum(s));
    return out;
}

std::optional<forum_row> forum_store::find_forum(std::int64_t id) {
    statement s(db_, "SELECT id, name FROM forums WHERE id = ?1");
    s.bind(1, id);
    if (!s.step()) return std::nullopt;
    return read_forum(s);
}

forum_row forum_store::create_forum(const std::string& name) {
    statement s(db_, "INSERT INTO forums (name) VALUES (?1) RETURNING id, name");
    s.bind(1, name);
    if (!s.step()) fail(db_, "insert forum");
    auto row = read_forum(s);
    s.step();  // completes the statement, which commits
    return row;
}

std::optional<forum_row> forum_store::update_forum(std::int64_t id, const std::string& name) {
    statement s(db_, "UPDATE forums SET name = ?2 WHERE id = ?1 RETURNING id, name");
    s.bind(1, id).bind(2, name);
    if (!s.step()) return std::nullopt;
    auto row = read_forum(s);
    s.step();
    return row;
}

bool forum_store::delete_forum(std::int64_t id) {
    statement s(db_, "DELETE FROM forums WHERE id = ?1");
    s.bind(1, id);
    s.step();
    return sqlite3_changes(db_) > 0;
}

std::vector<post_row> forum_store::list_posts(std::optional<std::int64_t> forum_id) {
    statement s(db_, forum_id ? "SELECT id, forum_id, title, body FROM posts WHERE forum_id = ?1 ORDER BY id"
                              : "SELECT id, forum_id, title, body FROM posts ORDER BY id");
    if (forum_id) s.bind(1, *forum_id);
    std::vector<post_row> out;
    while (s.step()) out.push_back(read_post(s));
    return out;
}

std::optional<post_row> forum_store::find_post(std::int64_t id) {
    statement s(db_, "SELECT id, forum_id, title, body FROM posts WHERE id = ?1");
    s.bind(1, id);
    if (!s.step()) return std::nullopt;
    return read_post(s);
}

std::optional<post_row> forum_store::create_post(const post_row& p) {
    // The existence check and the insert are one statement: no forum can
    // vanish in between.
    statement s(db_, "INSERT INTO posts (forum_id, title, body) SELECT id, ?2, ?3 FROM forums WHERE id = ?1 "
                     "RETURNING id, forum_id, title, body");
    s.bind(1, p.forum_id).bind(2, p.title).bind(3, p.body);
    if (!s.step()) return std::nullopt;
    auto row = read_post(s);
    s.step();
    return row;
}

std::optional<post_row> forum_store::update_post(const post_row& p) {
    statement s(db_, "UPDATE posts SET forum_id = ?2, title = ?3, body = ?4 "
                     "WHERE id = ?1 AND EXISTS (SELECT 1 FROM forums WHERE id = ?2) "
                     "RETURNING id, forum_id, title, body");
    s.bind(1, p.id).bind(2, p.forum_id).bind(3, p.title).bind(4, p.body);
    if (!s.step()) return std::nullopt;
    auto row = read_post(s);
    s.step();
    return row;
}

bool forum_store::delete_post(std::int64_t id) {
    statement s(db_, "DELETE FROM posts WHERE id = ?1");
    s.bind(1, id);
    s.step();
    return sqlite3_changes(db_) > 0;
}

}  // namespace forum
