// SPDX-License-Identifier: MIT
// `old` from the SQLite change capture: every update and delete carries the
// row as it was, in the form of `data`; a create never does; a value over
// max_data_bytes is left out; a log made by a version without `old` is
// brought up to date by start().

#include "sqlite/sqlite_fixture.hpp"

#include <boost/json.hpp>

#include <ostream>

namespace notifier::test {
namespace {

namespace json = boost::json;

const char* schema = R"sql(
CREATE TABLE posts (id INTEGER PRIMARY KEY, forum_id INTEGER NOT NULL, title TEXT, body TEXT);
CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, name TEXT);
CREATE TABLE tags (name TEXT PRIMARY KEY, color TEXT) WITHOUT ROWID;
CREATE TABLE contacts (email TEXT PRIMARY KEY COLLATE NOCASE, name TEXT);
CREATE TABLE samples (id INTEGER PRIMARY KEY, b BLOB, r REAL);
CREATE TABLE items (id INTEGER PRIMARY KEY, label TEXT);
)sql";

/// Small, so that a test row can cross it: 1,000 bytes of JSON.
constexpr std::size_t data_limit = 1000;
/// A post body whose JSON is over data_limit on its own.
const std::string big_body = "replace(hex(zeroblob(600)), '0', 'x')";

std::vector<sqlite_table> watched() {
    return {
        {"posts", "", "", {"forum_id", "title", "body"}},
        {"users", "", "", {"email", "name"}},
        {"tags", "", "", {"color"}},
        {"contacts", "", "", {"name"}},
        {"samples", "", "", {"b", "r"}},
        {"items", "", "", {}},  // no data, so no old either
    };
}

/// One expected notification; nullptr: the field is absent.
struct expected {
    const char* collection;
    const char* action;
    const char* id;
    const char* data;
    const char* old;
    bool data_omitted = false;
};

struct old_case {
    const char* name;
    std::string before;  ///< committed and drained first
    std::string change;  ///< what the case is about; its notifications are checked
    std::vector<expected> want;
};

void PrintTo(const old_case& c, std::ostream* os) { *os << c.name; }

const std::vector<old_case> old_cases = {
    {"create_has_no_old", "", "INSERT INTO posts (id, forum_id, title) VALUES (1, 7, 'a')",
     {{"posts", "create", "1", R"({"forum_id":7,"title":"a","body":null})", nullptr}}},
    {"update_changing_nothing", "INSERT INTO posts (id, forum_id, title) VALUES (1, 7, 'a')",
     "UPDATE posts SET title = title WHERE id = 1",
     {{"posts", "update", "1", R"({"forum_id":7,"title":"a","body":null})",
       R"({"forum_id":7,"title":"a","body":null})"}}},
    {"delete_without_where_gives_each_row_its_own",
     "INSERT INTO posts (id, forum_id, title) VALUES (1, 7, 'a'), (2, 8, 'b')", "DELETE FROM posts",
     {{"posts", "delete", "1", nullptr, R"({"forum_id":7,"title":"a","body":null})"},
      {"posts", "delete", "2", nullptr, R"({"forum_id":8,"title":"b","body":null})"}}},
    {"update_then_delete_in_one_transaction", "INSERT INTO posts (id, forum_id, title) VALUES (1, 7, 'a')",
     "BEGIN; UPDATE posts SET forum_id = 8, title = 'moved' WHERE id = 1; DELETE FROM posts WHERE id = 1; COMMIT",
     {{"posts", "update", "1", R"({"forum_id":8,"title":"moved","body":null})",
       R"({"forum_id":7,"title":"a","body":null})"},
      {"posts", "delete", "1", nullptr, R"({"forum_id":8,"title":"moved","body":null})"}}},
    {"key_change_onto_a_replaced_row_updates_it_with_its_values",
     "INSERT INTO posts (id, forum_id, title) VALUES (1, 7, 'a'), (2, 9, 'b')",
     "UPDATE OR REPLACE posts SET id = 2 WHERE id = 1",
     {{"posts", "delete", "1", nullptr, R"({"forum_id":7,"title":"a","body":null})"},
      {"posts", "update", "2", R"({"forum_id":7,"title":"a","body":null})",
       R"({"forum_id":9,"title":"b","body":null})"}}},
    {"insert_or_replace_of_the_same_key", "INSERT INTO users (id, email, name) VALUES (1, 'a@x', 'A')",
     "INSERT OR REPLACE INTO users (id, email, name) VALUES (1, 'a@x', 'A2')",
     {{"users", "update", "1", R"({"email":"a@x","name":"A2"})", R"({"email":"a@x","name":"A"})"}}},
    {"replace_deleting_another_row", "INSERT INTO users (id, email, name) VALUES (1, 'a@x', 'A'), (2, 'b@x', 'B')",
     "INSERT OR REPLACE INTO users (id, email, name) VALUES (1, 'b@x', 'C')",
     {{"users", "delete", "2", nullptr, R"({"email":"b@x","name":"B"})"},
      {"users", "update", "1", R"({"email":"b@x","name":"C"})", R"({"email":"a@x","name":"A"})"}}},
    {"update_or_replace_deleting_another_row",
     "INSERT INTO users (id, email, name) VALUES (1, 'a@x', 'A'), (2, 'b@x', 'B')",
     "UPDATE OR REPLACE users SET email = 'b@x' WHERE id = 1",
     {{"users", "delete", "2", nullptr, R"({"email":"b@x","name":"B"})"},
      {"users", "update", "1", R"({"email":"b@x","name":"A"})", R"({"email":"a@x","name":"A"})"}}},
    {"replace_with_recursive_triggers",
     "PRAGMA recursive_triggers = ON; INSERT INTO users (id, email, name) VALUES (1, 'a@x', 'A'), (2, 'b@x', 'B')",
     "INSERT OR REPLACE INTO users (id, email, name) VALUES (1, 'b@x', 'C')",
     {{"users", "delete", "1", nullptr, R"({"email":"a@x","name":"A"})"},
      {"users", "delete", "2", nullptr, R"({"email":"b@x","name":"B"})"},
      {"users", "create", "1", R"({"email":"b@x","name":"C"})", nullptr}}},
    {"upsert", "INSERT INTO users (id, email, name) VALUES (1, 'a@x', 'A')",
     "INSERT INTO users (id, email, name) VALUES (1, 'a@x', 'B') ON CONFLICT (id) DO UPDATE SET name = excluded.name",
     {{"users", "update", "1", R"({"email":"a@x","name":"B"})", R"({"email":"a@x","name":"A"})"}}},
    {"nocase_key_changing_case", "INSERT INTO contacts (email, name) VALUES ('abc', 'A')",
     "UPDATE contacts SET email = 'Abc', name = 'B' WHERE email = 'abc'",
     {{"contacts", "delete", "abc", nullptr, R"({"name":"A"})"},
      {"contacts", "create", "Abc", R"({"name":"B"})", nullptr}}},
    {"nocase_key_replaced_in_another_case", "INSERT INTO contacts (email, name) VALUES ('abc', 'A')",
     "INSERT OR REPLACE INTO contacts (email, name) VALUES ('ABC', 'B')",
     {{"contacts", "delete", "abc", nullptr, R"({"name":"A"})"},
      {"contacts", "create", "ABC", R"({"name":"B"})", nullptr}}},
    {"without_rowid_update_and_key_change", "INSERT INTO tags (name, color) VALUES ('red', '#f00')",
     "UPDATE tags SET color = '#e00'; UPDATE tags SET name = 'crimson'",
     {{"tags", "update", "red", R"({"color":"#e00"})", R"({"color":"#f00"})"},
      {"tags", "delete", "red", nullptr, R"({"color":"#e00"})"},
      {"tags", "create", "crimson", R"({"color":"#e00"})", nullptr}}},
    {"blobs_and_infinities_as_in_data", "INSERT INTO samples (id, b, r) VALUES (1, x'00ff', 1e999)",
     "UPDATE samples SET b = 'text', r = 2.5; DELETE FROM samples",
     {{"samples", "update", "1", R"({"b":"text","r":2.5})", R"({"b":"00FF","r":null})"},
      {"samples", "delete", "1", nullptr, R"({"b":"text","r":2.5})"}}},
    {"no_columns_no_old", "INSERT INTO items (id, label) VALUES (1, 'a')",
     "UPDATE items SET label = 'b'; DELETE FROM items",
     {{"items", "update", "1", nullptr, nullptr}, {"items", "delete", "1", nullptr, nullptr}}},
    // Data alone would hide the row leaving a filter: neither is sent.
    {"an_old_over_the_limit_is_left_out_and_data_with_it",
     "INSERT INTO posts (id, forum_id, title, body) VALUES (1, 7, 'a', " + big_body + ")",
     "UPDATE posts SET body = 'short'",
     {{"posts", "update", "1", nullptr, nullptr, true}}},
    // Old alone would reach readers of every filter (an omitted data holds
    // them all): nothing of the row is sent.
    {"a_data_over_the_limit_is_omitted_and_old_with_it",
     "INSERT INTO posts (id, forum_id, title, body) VALUES (1, 7, 'a', 'short')",
     "UPDATE posts SET body = " + big_body,
     {{"posts", "update", "1", nullptr, nullptr, true}}},
    {"a_delete_over_the_limit_has_neither",
     "INSERT INTO posts (id, forum_id, title, body) VALUES (1, 7, 'a', " + big_body + ")", "DELETE FROM posts",
     {{"posts", "delete", "1", nullptr, nullptr}}},
};

class old_fixture : public ::testing::Test {
protected:
    void SetUp() override {
        path_ = dir_.file("app.db");
        writer_ = std::make_unique<db_writer>(path_);
        writer_->exec(schema);
    }
    void TearDown() override {
        if (source_) source_->stop();
    }

    void start() {
        sqlite_source_options o;
        o.path = path_;
        o.tables = watched();
        o.max_data_bytes = data_limit;
        source_ = std::make_unique<sqlite_source>(collected_.make_notifier(), std::move(o));
        source_->start();
    }

    /// Everything emitted for what committed before this call.
    std::vector<notification> emitted() {
        EXPECT_TRUE(source_->sync(wait_limit));
        return collected_.take();
    }

    db_writer& db() { return *writer_; }

    temp_dir dir_;
    std::string path_;
    std::unique_ptr<db_writer> writer_;
    collector collected_;
    std::unique_ptr<sqlite_source> source_;
};

/// Compares JSON by value, so the test does not depend on the spelling.
void expect_json(const std::optional<std::string>& got, const char* want, const char* field) {
    if (!want) {
        EXPECT_FALSE(got.has_value()) << field << " should be absent, is " << *got;
        return;
    }
    ASSERT_TRUE(got.has_value()) << field << " is absent";
    EXPECT_EQ(json::parse(*got), json::parse(want)) << field << ": " << *got;
}

void expect_notifications(const std::vector<notification>& got, const std::vector<expected>& want) {
    ASSERT_EQ(got.size(), want.size()) << describe(got);
    for (std::size_t i = 0; i < want.size(); ++i) {
        SCOPED_TRACE("notification " + std::to_string(i) + ":\n" + describe(got));
        const auto& g = got[i];
        const auto& w = want[i];
        EXPECT_EQ(g.collection, w.collection);
        EXPECT_EQ(g.action, w.action);
        EXPECT_EQ(g.id, std::optional<std::string>(w.id));
        expect_json(g.data, w.data, "data");
        EXPECT_EQ(g.data_omitted, w.data_omitted);
        expect_json(g.old, w.old, "old");
        EXPECT_FALSE(validate(g)) << "not a valid notification";
    }
}

class capture_old : public old_fixture, public ::testing::WithParamInterface<old_case> {};

TEST_P(capture_old, fills_old_as_data_is_filled) {
    const auto& c = GetParam();
    start();
    if (!c.before.empty()) db().exec(c.before);
    emitted();
    db().exec(c.change);
    expect_notifications(emitted(), c.want);
}

INSTANTIATE_TEST_SUITE_P(cases, capture_old, ::testing::ValuesIn(old_cases),
                         [](const auto& info) { return std::string(info.param.name); });

// What the capture installed before the log had `old`: the log and scratch
// tables without the column and triggers that write four columns (those of
// posts, reduced to what an update and a delete need).
const char* previous_version = R"sql(
CREATE TABLE _notifier_log (id INTEGER PRIMARY KEY AUTOINCREMENT, tbl TEXT NOT NULL, op TEXT NOT NULL, pk, data TEXT);
CREATE TABLE _notifier_state (id INTEGER PRIMARY KEY CHECK (id = 1), last_id INTEGER NOT NULL);
INSERT INTO _notifier_state (id, last_id) VALUES (1, 0);
CREATE TABLE _notifier_scratch (tbl TEXT NOT NULL, pk);
CREATE INDEX _notifier_scratch_by_key ON _notifier_scratch (tbl, pk);
CREATE TRIGGER "_notifier_posts_after_update" AFTER UPDATE ON "posts" BEGIN
INSERT INTO _notifier_log (tbl, op, pk, data) SELECT 'posts', 'delete', OLD."id", NULL
  WHERE OLD."id" IS NOT NEW."id" COLLATE BINARY;
INSERT INTO _notifier_log (tbl, op, pk, data) VALUES ('posts', CASE WHEN OLD."id" IS NOT NEW."id" COLLATE BINARY
  THEN 'create' ELSE 'update' END, NEW."id", json_object('forum_id', NEW."forum_id", 'title', NEW."title",
  'body', NEW."body"));
END;
CREATE TRIGGER "_notifier_posts_after_delete" AFTER DELETE ON "posts" BEGIN
INSERT INTO _notifier_log (tbl, op, pk, data) VALUES ('posts', 'delete', OLD."id", NULL);
END;
)sql";

using capture_old_upgrade = old_fixture;

TEST_F(capture_old_upgrade, a_log_made_without_old_is_brought_up_to_date) {
    db().exec(previous_version);
    db().exec("INSERT INTO posts (id, forum_id, title) VALUES (1, 7, 'a'), (2, 7, 'b');"
              "UPDATE posts SET forum_id = 8 WHERE id = 1");
    start();
    // Logged by the previous triggers: the old row was never recorded.
    expect_notifications(emitted(), {{"posts", "update", "1", R"({"forum_id":8,"title":"a","body":null})", nullptr}});
    EXPECT_EQ(db().scalar("SELECT count(*) FROM pragma_table_info('_notifier_log') WHERE name = 'old'"), 1);
    EXPECT_EQ(db().scalar("SELECT count(*) FROM pragma_table_info('_notifier_scratch') WHERE name = 'old'"), 1);
    // The new triggers, the REPLACE path through the scratch table included.
    db().exec("UPDATE posts SET forum_id = 9 WHERE id = 1;"
              "INSERT OR REPLACE INTO posts (id, forum_id, title) VALUES (2, 7, 'b2');"
              "DELETE FROM posts WHERE id = 1");
    expect_notifications(emitted(), {{"posts", "update", "1", R"({"forum_id":9,"title":"a","body":null})",
                                      R"({"forum_id":8,"title":"a","body":null})"},
                                     {"posts", "update", "2", R"({"forum_id":7,"title":"b2","body":null})",
                                      R"({"forum_id":7,"title":"b","body":null})"},
                                     {"posts", "delete", "1", nullptr, R"({"forum_id":9,"title":"a","body":null})"}});
    // Starting again finds the columns there and changes nothing.
    source_->stop();
    start();
    db().exec("UPDATE posts SET title = 'c' WHERE id = 2");
    expect_notifications(emitted(), {{"posts", "update", "2", R"({"forum_id":7,"title":"c","body":null})",
                                      R"({"forum_id":7,"title":"b2","body":null})"}});
}

TEST(sqlite_source_options, max_data_bytes_must_hold_an_object) {
    collector got;
    sqlite_source_options o;
    o.path = "unused.db";
    o.tables = {{"posts", "", "", {}}};
    o.max_data_bytes = 1;
    EXPECT_THROW(sqlite_source(got.make_notifier(), o), std::invalid_argument);
}

}  // namespace
}  // namespace notifier::test
