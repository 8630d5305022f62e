// SPDX-License-Identifier: MIT
// Every capture case of the SQLite change capture, in both journal modes:
// what commits is emitted once, in commit order; what rolls back never is.

#include "sqlite/sqlite_fixture.hpp"

#include <boost/json.hpp>

#include <thread>

namespace notifier::test {
namespace {

namespace json = boost::json;

const char* schema = R"sql(
CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, name TEXT, password_hash TEXT,
                    age INTEGER CHECK (age IS NULL OR age >= 0));
CREATE TABLE tags (name TEXT PRIMARY KEY, color TEXT) WITHOUT ROWID;
CREATE TABLE items (id INTEGER PRIMARY KEY, label TEXT);
CREATE TABLE samples (id INTEGER PRIMARY KEY, b BLOB, r REAL);
CREATE TABLE events (id INTEGER PRIMARY KEY, writer TEXT NOT NULL, txn INTEGER NOT NULL);
CREATE TABLE forums (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE contacts (email TEXT PRIMARY KEY COLLATE NOCASE, name TEXT);
CREATE TABLE odd (k TEXT PRIMARY KEY, _rowid_ TEXT) WITHOUT ROWID;
CREATE TABLE posts (id INTEGER PRIMARY KEY, forum_id INTEGER NOT NULL REFERENCES forums (id) ON DELETE CASCADE,
                    title TEXT NOT NULL);
)sql";

class capture : public ::testing::TestWithParam<std::string> {
protected:
    void SetUp() override {
        path_ = dir_.file("app.db");
        writer_ = std::make_unique<db_writer>(path_);
        writer_->exec("PRAGMA journal_mode=" + GetParam());
        writer_->exec(schema);
        sqlite_source_options o;
        o.path = path_;
        o.tables = {
            {"users", "", "", {"email", "name"}},  // password_hash and age are not sent
            {"tags", "", "", {"color"}},
            {"items", "", "", {}},  // no data at all
            {"samples", "", "", {"b", "r"}},
            {"events", "", "", {"writer", "txn"}},
            {"forums", "", "", {"name"}},
            {"posts", "", "", {"forum_id", "title"}},
            {"contacts", "", "", {"name"}},
            {"odd", "", "", {"_rowid_"}},
        };
        source_ = std::make_unique<sqlite_source>(collected_.make_notifier(), std::move(o));
        source_->start();
    }
    void TearDown() override { source_->stop(); }

    db_writer& db() { return *writer_; }

    /// Everything emitted for what committed before this call.
    std::vector<notification> emitted() {
        EXPECT_TRUE(source_->sync(wait_limit));
        return collected_.take();
    }

    temp_dir dir_;
    std::string path_;
    std::unique_ptr<db_writer> writer_;
    collector collected_;
    std::unique_ptr<sqlite_source> source_;
};

void expect_data(const notification& n, const char* expected_json) {
    ASSERT_TRUE(n.data.has_value()) << n.collection << " " << n.action;
    EXPECT_EQ(json::parse(*n.data), json::parse(expected_json)) << *n.data;
}

TEST_P(capture, insert_update_delete) {
    db().exec("INSERT INTO users (email, name, password_hash) VALUES ('ada@example.org', 'Ada', 'secret')");
    db().exec("UPDATE users SET name = 'Ada L.' WHERE id = 1");
    db().exec("DELETE FROM users WHERE id = 1");
    auto got = emitted();
    ASSERT_EQ(got.size(), 3u) << describe(got);
    EXPECT_EQ((std::tuple{got[0].collection, got[0].action, got[0].id}),
              (std::tuple{std::string("users"), std::string("create"), std::optional<std::string>("1")}));
    expect_data(got[0], R"({"email":"ada@example.org","name":"Ada"})");
    EXPECT_EQ(got[1].action, "update");
    expect_data(got[1], R"({"email":"ada@example.org","name":"Ada L."})");
    EXPECT_EQ(got[2], make("users", "delete", "1", std::nullopt, R"({"email":"ada@example.org","name":"Ada L."})"));
}

TEST_P(capture, data_holds_only_the_chosen_columns) {
    db().exec("INSERT INTO users (email, name, password_hash, age) VALUES ('a@x', 'A', 'hash', 3)");
    db().exec("INSERT INTO items (label) VALUES ('no data configured')");
    auto got = emitted();
    ASSERT_EQ(got.size(), 2u) << describe(got);
    EXPECT_EQ(got[0].data->find("hash"), std::string::npos) << *got[0].data;
    EXPECT_EQ(json::parse(*got[0].data).as_object().size(), 2u);
    EXPECT_EQ(got[1], make("items", "create", "1"));
}

TEST_P(capture, failed_statement_inside_a_transaction_leaves_nothing) {
    db().exec("INSERT INTO users (id, email, age) VALUES (1, 'a@x', 10), (2, 'b@x', 3)");
    ASSERT_EQ(emitted().size(), 2u);
    db().exec("BEGIN; INSERT INTO items (id) VALUES (1)");
    // The first row of each statement is written, then the CHECK fails: the
    // statement's partial effects (and their log rows) are undone.
    EXPECT_NE(db().exec_failing("INSERT INTO users (id, email, age) VALUES (3, 'c@x', 1), (4, 'd@x', -1)").find("CHECK"),
              std::string::npos);
    EXPECT_NE(db().exec_failing("UPDATE users SET age = age - 5").find("CHECK"), std::string::npos);
    db().exec("INSERT INTO items (id) VALUES (2); COMMIT");
    auto got = emitted();
    EXPECT_EQ(got, (std::vector{make("items", "create", "1"), make("items", "create", "2")})) << describe(got);
}

TEST_P(capture, insert_or_replace_of_an_existing_key_is_an_update) {
    db().exec("INSERT INTO users (id, email, name) VALUES (1, 'a@x', 'A')");
    db().exec("INSERT OR REPLACE INTO users (id, email, name) VALUES (1, 'a@x', 'A2')");
    db().exec("REPLACE INTO tags (name, color) VALUES ('red', '#f00'), ('red', '#e00')");
    auto got = emitted();
    ASSERT_EQ(got.size(), 4u) << describe(got);
    EXPECT_EQ(got[1].action, "update");
    EXPECT_EQ(got[1].id, "1");
    expect_data(got[1], R"({"email":"a@x","name":"A2"})");
    EXPECT_EQ(got[2].action, "create");
    EXPECT_EQ(got[3].action, "update");
    expect_data(got[3], R"({"color":"#e00"})");
}

TEST_P(capture, replace_deleting_another_row_emits_its_delete) {
    db().exec("INSERT INTO users (id, email) VALUES (1, 'a@x'), (2, 'b@x')");
    ASSERT_EQ(emitted().size(), 2u);
    // Row 2 holds the e-mail: REPLACE deletes it without a DELETE trigger
    // firing (recursive_triggers is off), which update hooks miss too.
    db().exec("INSERT OR REPLACE INTO users (id, email, name) VALUES (1, 'b@x', 'B')");
    auto got = emitted();
    ASSERT_EQ(got.size(), 2u) << describe(got);
    EXPECT_EQ(got[0], make("users", "delete", "2", std::nullopt, R"({"email":"b@x","name":null})"));
    EXPECT_EQ(got[1].action, "update");
    EXPECT_EQ(got[1].id, "1");
    // Without an explicit key: the row holding the e-mail goes, a new row comes.
    db().exec("REPLACE INTO users (email, name) VALUES ('b@x', 'again')");
    got = emitted();
    ASSERT_EQ(got.size(), 2u) << describe(got);
    EXPECT_EQ(got[0], make("users", "delete", "1", std::nullopt, R"({"email":"b@x","name":"B"})"));
    EXPECT_EQ(got[1].action, "create");
    EXPECT_EQ(got[1].id, std::to_string(db().scalar("SELECT id FROM users WHERE email = 'b@x'")));
    EXPECT_EQ(db().scalar("SELECT count(*) FROM users"), 1);
}

TEST_P(capture, replace_with_recursive_triggers_on_emits_each_delete_once) {
    db().exec("PRAGMA recursive_triggers = ON");
    db().exec("INSERT INTO users (id, email) VALUES (1, 'a@x'), (2, 'b@x')");
    ASSERT_EQ(emitted().size(), 2u);
    db().exec("INSERT OR REPLACE INTO users (id, email) VALUES (1, 'b@x')");
    auto got = emitted();
    // The DELETE trigger now fires for both replaced rows; nothing twice.
    ASSERT_EQ(got.size(), 3u) << describe(got);
    std::vector<std::string> actions;
    for (auto& n : got) actions.push_back(n.action + " " + n.id.value_or("-"));
    std::sort(actions.begin(), actions.end() - 1);
    EXPECT_EQ(actions, (std::vector<std::string>{"delete 1", "delete 2", "create 1"}));
}

TEST_P(capture, update_or_replace_emits_the_deleted_row) {
    db().exec("INSERT INTO users (id, email) VALUES (1, 'a@x'), (2, 'b@x')");
    ASSERT_EQ(emitted().size(), 2u);
    db().exec("UPDATE OR REPLACE users SET email = 'b@x' WHERE id = 1");
    auto got = emitted();
    ASSERT_EQ(got.size(), 2u) << describe(got);
    EXPECT_EQ(got[0], make("users", "delete", "2", std::nullopt, R"({"email":"b@x","name":null})"));
    EXPECT_EQ(got[1].action, "update");
    EXPECT_EQ(got[1].id, "1");
}

TEST_P(capture, upsert_is_an_update_and_do_nothing_is_nothing) {
    db().exec("INSERT INTO users (id, email, name) VALUES (1, 'a@x', 'A')");
    db().exec("INSERT INTO users (id, email, name) VALUES (1, 'a@x', 'B') "
              "ON CONFLICT (id) DO UPDATE SET name = excluded.name");
    db().exec("INSERT INTO users (id, email) VALUES (1, 'a@x') ON CONFLICT DO NOTHING");
    db().exec("INSERT OR IGNORE INTO users (id, email) VALUES (1, 'other@x')");
    db().exec("INSERT INTO tags (name, color) VALUES ('red', '#f00') "
              "ON CONFLICT (name) DO UPDATE SET color = excluded.color");
    auto got = emitted();
    ASSERT_EQ(got.size(), 3u) << describe(got);
    EXPECT_EQ(got[0].action, "create");
    EXPECT_EQ(got[1].action, "update");
    expect_data(got[1], R"({"email":"a@x","name":"B"})");
    EXPECT_EQ((std::tuple{got[2].collection, got[2].action, got[2].id}),
              (std::tuple{std::string("tags"), std::string("create"), std::optional<std::string>("red")}));
}

TEST_P(capture, delete_without_where_emits_every_row) {
    db().exec("INSERT INTO items (id) VALUES (1), (2), (3)");
    ASSERT_EQ(emitted().size(), 3u);
    // No truncate optimisation: the triggers make SQLite delete row by row.
    db().exec("DELETE FROM items");
    auto got = emitted();
    EXPECT_EQ(got, (std::vector{make("items", "delete", "1"), make("items", "delete", "2"),
                                make("items", "delete", "3")}))
        << describe(got);
}

TEST_P(capture, without_rowid_table) {
    db().exec("INSERT INTO tags (name, color) VALUES ('red', '#f00'), ('blue', '#00f')");
    db().exec("UPDATE tags SET color = '#e00' WHERE name = 'red'");
    db().exec("UPDATE tags SET name = 'navy' WHERE name = 'blue'");
    db().exec("INSERT OR REPLACE INTO tags (name, color) VALUES ('navy', '#008')");
    db().exec("DELETE FROM tags");
    auto got = emitted();
    std::vector<std::string> seen;
    for (auto& n : got) seen.push_back(n.action + " " + n.id.value_or("-"));
    EXPECT_EQ(seen, (std::vector<std::string>{"create red", "create blue", "update red", "delete blue", "create navy",
                                              "update navy", "delete navy", "delete red"}))
        << describe(got);
    expect_data(got[2], R"({"color":"#e00"})");
}

TEST_P(capture, a_case_insensitive_key_that_changes_case_is_a_delete_and_a_create) {
    // One row to SQLite (COLLATE NOCASE), two ids to a client.
    db().exec("INSERT INTO contacts (email, name) VALUES ('abc', 'A')");
    db().exec("INSERT OR REPLACE INTO contacts (email, name) VALUES ('ABC', 'B')");
    db().exec("UPDATE contacts SET email = 'Abc' WHERE email = 'abc'");
    db().exec("INSERT OR REPLACE INTO contacts (email, name) VALUES ('Abc', 'C')");
    auto got = emitted();
    std::vector<std::string> seen;
    for (auto& n : got) seen.push_back(n.action + " " + n.id.value_or("-"));
    EXPECT_EQ(seen, (std::vector<std::string>{"create abc", "delete abc", "create ABC", "delete ABC", "create Abc",
                                              "update Abc"}))
        << describe(got);
}

TEST_P(capture, a_without_rowid_table_may_have_a_column_named_rowid) {
    db().exec("INSERT INTO odd (k, _rowid_) VALUES ('a', 'x')");
    db().exec("UPDATE odd SET _rowid_ = 'y' WHERE k = 'a'");
    db().exec("DELETE FROM odd");
    auto got = emitted();
    std::vector<std::string> seen;
    for (auto& n : got) seen.push_back(n.action + " " + n.id.value_or("-"));
    EXPECT_EQ(seen, (std::vector<std::string>{"create a", "update a", "delete a"})) << describe(got);
    expect_data(got[1], R"({"_rowid_":"y"})");
}

TEST_P(capture, changes_of_another_connection_are_seen_without_wake) {
    db_writer other(path_);
    other.exec("INSERT INTO items (label) VALUES ('from another connection')");
    // No sync(), no wake(): only the data_version poll can find it.
    auto got = collected_.wait_for(1);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0], make("items", "create", "1"));
}

TEST_P(capture, changes_of_another_process_are_seen) {
    sqlite3_shell(path_, "INSERT INTO users (id, email, name) VALUES (7, 'shell@x', 'Shell');"
                         "UPDATE users SET name = 'Shell 2' WHERE id = 7;"
                         "BEGIN; INSERT INTO items (id) VALUES (99); ROLLBACK;"
                         "DELETE FROM users WHERE id = 7;");
    auto got = collected_.wait_for(3);
    ASSERT_EQ(got.size(), 3u) << describe(got);
    expect_data(got[0], R"({"email":"shell@x","name":"Shell"})");
    EXPECT_EQ(got[1].action, "update");
    EXPECT_EQ(got[2], make("users", "delete", "7", std::nullopt, R"({"email":"shell@x","name":"Shell 2"})"));
    EXPECT_EQ(emitted().size(), 3u);  // and nothing for the rolled back insert
}

TEST_P(capture, nothing_is_emitted_before_the_commit) {
    db_writer other(path_);
    other.exec("BEGIN; INSERT INTO items (id, label) VALUES (1, 'pending')");
    // sync() makes the source read the log after this point: the row is
    // written, just not committed.
    EXPECT_TRUE(source_->sync(wait_limit));
    EXPECT_EQ(collected_.size(), 0u);
    other.exec("COMMIT");
    auto got = collected_.wait_for(1);
    EXPECT_EQ(got, (std::vector{make("items", "create", "1")}));
}

TEST_P(capture, concurrent_writers_are_emitted_in_commit_order) {
    constexpr int per_writer = 40;
    auto write = [this](std::string name) {
        db_writer w(path_);
        for (int i = 0; i < per_writer; ++i) {
            // Each transaction writes two rows; the rowid grows in commit
            // order because writers are serialised by the write lock.
            w.exec("BEGIN IMMEDIATE;"
                   "INSERT INTO events (writer, txn) VALUES ('" + name + "', " + std::to_string(i) + ");"
                   "INSERT INTO events (writer, txn) VALUES ('" + name + "', " + std::to_string(i) + ");"
                   "COMMIT");
        }
    };
    std::thread a(write, "a"), b(write, "b");
    a.join();
    b.join();
    auto got = emitted();
    ASSERT_EQ(got.size(), 4u * per_writer);
    for (std::size_t i = 0; i < got.size(); ++i) {
        EXPECT_EQ(got[i].id, std::to_string(i + 1)) << "not in commit order at " << i;
        if (i % 2 == 1) EXPECT_EQ(got[i].data, got[i - 1].data) << "a transaction was split at " << i;
    }
}

TEST_P(capture, cascading_deletes_are_captured) {
    db().exec("PRAGMA foreign_keys = ON");
    db().exec("INSERT INTO forums (id, name) VALUES (1, 'General');"
              "INSERT INTO posts (id, forum_id, title) VALUES (1, 1, 'a'), (2, 1, 'b')");
    ASSERT_EQ(emitted().size(), 3u);
    db().exec("DELETE FROM forums WHERE id = 1");
    auto got = emitted();
    std::vector<std::string> seen;
    for (auto& n : got) seen.push_back(n.collection + " " + n.action + " " + n.id.value_or("-"));
    std::sort(seen.begin(), seen.end());
    EXPECT_EQ(seen, (std::vector<std::string>{"forums delete 1", "posts delete 1", "posts delete 2"}));
}

TEST_P(capture, blobs_and_infinities_never_break_a_writer) {
    db().exec("INSERT INTO samples (id, b, r) VALUES (1, x'00ff', 1e999), (2, 'text', -1e999), (3, NULL, 2.5)");
    auto got = emitted();
    ASSERT_EQ(got.size(), 3u);
    expect_data(got[0], R"({"b":"00FF","r":null})");
    expect_data(got[1], R"({"b":"text","r":null})");
    expect_data(got[2], R"({"b":null,"r":2.5})");
}

TEST_P(capture, the_log_is_pruned_once_emitted) {
    db().exec("INSERT INTO items (id) VALUES (1), (2), (3)");
    ASSERT_EQ(emitted().size(), 3u);
    EXPECT_EQ(db().scalar("SELECT count(*) FROM _notifier_log"), 0);
    EXPECT_EQ(db().scalar("SELECT last_id FROM _notifier_state"), source_->position());
}

INSTANTIATE_TEST_SUITE_P(journal_modes, capture, ::testing::Values("DELETE", "WAL"),
                         [](const auto& info) { return std::string(info.param == "WAL" ? "wal" : "rollback"); });

}  // namespace
}  // namespace notifier::test
