// SPDX-License-Identifier: MIT
// notifier::sqlite across restarts, configuration changes and failures:
// the saved position, pruning, the log's bound and what happens when rows
// were lost.

#include "sqlite/sqlite_fixture.hpp"
#include "support/eventually.hpp"

namespace notifier::test {
namespace {

class lifecycle : public ::testing::Test {
protected:
    void SetUp() override {
        path_ = dir_.file("app.db");
        writer_ = std::make_unique<db_writer>(path_);
        writer_->exec("PRAGMA journal_mode=WAL;"
                      "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT, name TEXT);"
                      "CREATE TABLE items (id INTEGER PRIMARY KEY, label TEXT);"
                      "CREATE TABLE pairs (a INTEGER, b INTEGER, code TEXT UNIQUE NOT NULL, PRIMARY KEY (a, b)) "
                      "WITHOUT ROWID;");
    }

    sqlite_source_options options(std::vector<sqlite_table> tables = {{"users", "", "", {"email"}},
                                                                      {"items", "", "", {}}}) {
        sqlite_source_options o;
        o.path = path_;
        o.tables = std::move(tables);
        o.on_error = [this](std::string_view e) {
            std::lock_guard lock(errors_mutex_);
            errors_.emplace_back(e);
        };
        return o;
    }

    db_writer& db() { return *writer_; }

    temp_dir dir_;
    std::string path_;
    std::unique_ptr<db_writer> writer_;
    std::mutex errors_mutex_;
    std::vector<std::string> errors_;
};

std::vector<std::string> summary(const std::vector<notification>& v) {
    std::vector<std::string> out;
    for (const auto& n : v) out.push_back(n.collection + " " + n.action + " " + n.id.value_or("-"));
    return out;
}

TEST_F(lifecycle, the_log_stays_bounded_without_a_reader_and_losses_are_announced) {
    auto o = options();
    o.max_log_rows = 5;
    collector got;
    {
        sqlite_source s(got.make_notifier(), o);
        s.start();  // installs the triggers
        s.stop();
    }
    for (int i = 1; i <= 20; ++i) db().exec("INSERT INTO items (id) VALUES (" + std::to_string(i) + ")");
    EXPECT_LE(db().scalar("SELECT count(*) FROM _notifier_log"), 5);
    sqlite_source s(got.make_notifier(), o);
    s.start();
    ASSERT_TRUE(s.sync(wait_limit));
    // Rows 1..15 are gone: every collection is announced as reset (reload
    // it), then the rows that are left follow.
    EXPECT_EQ(summary(got.take()), (std::vector<std::string>{"users reset -", "items reset -", "items create 16",
                                                              "items create 17", "items create 18",
                                                              "items create 19", "items create 20"}));
    // Back to normal afterwards.
    db().exec("INSERT INTO items (id) VALUES (21)");
    ASSERT_TRUE(s.sync(wait_limit));
    EXPECT_EQ(summary(got.take()), (std::vector<std::string>{"items create 21"}));
}

TEST_F(lifecycle, a_bulk_write_beyond_the_bound_is_announced_while_running) {
    auto o = options();
    o.max_log_rows = 10;
    collector got;
    sqlite_source s(got.make_notifier(), o);
    s.start();
    db().exec("INSERT INTO items (id) VALUES (1)");
    ASSERT_TRUE(s.sync(wait_limit));
    got.take();
    db().exec("WITH RECURSIVE n(i) AS (SELECT 2 UNION ALL SELECT i + 1 FROM n WHERE i < 50) "
              "INSERT INTO items (id) SELECT i FROM n");
    ASSERT_TRUE(s.sync(wait_limit));
    auto v = summary(got.take());
    ASSERT_EQ(v.size(), 12u);
    EXPECT_EQ(v[0], "users reset -");
    EXPECT_EQ(v[1], "items reset -");
    EXPECT_EQ(v[2], "items create 41");
    EXPECT_EQ(v.back(), "items create 50");
}

TEST_F(lifecycle, a_database_restored_behind_the_position_is_announced) {
    collector got;
    {
        sqlite_source s(got.make_notifier(), options());
        s.start();
        db().exec("INSERT INTO items (id) VALUES (1)");
        ASSERT_TRUE(s.sync(wait_limit));
    }
    got.take();
    // As if the file came back from an older backup: the log's ids are behind
    // the saved position.
    db().exec("UPDATE _notifier_state SET last_id = 1000");
    sqlite_source s(got.make_notifier(), options());
    s.start();
    ASSERT_TRUE(s.sync(wait_limit));
    EXPECT_EQ(summary(got.take()), (std::vector<std::string>{"users reset -", "items reset -"}));
    db().exec("INSERT INTO items (id) VALUES (2)");
    ASSERT_TRUE(s.sync(wait_limit));
    EXPECT_EQ(summary(got.take()), (std::vector<std::string>{"items create 2"}));
}

TEST_F(lifecycle, configuration_changes_reinstall_the_triggers) {
    collector got;
    {
        sqlite_source s(got.make_notifier(), options({{"users", "", "", {"email"}}, {"items", "", "", {}}}));
        s.start();
        db().exec("INSERT INTO users (id, email, name) VALUES (1, 'a@x', 'A')");
        ASSERT_TRUE(s.sync(wait_limit));
    }
    EXPECT_EQ(got.take().at(0).data, R"({"email":"a@x"})");
    EXPECT_EQ(db().scalar("SELECT count(*) FROM sqlite_schema WHERE type = 'trigger' AND tbl_name = 'items'"), 5);
    sqlite_source s(got.make_notifier(), options({{"users", "people", "", {"email", "name"}}}));
    s.start();
    db().exec("UPDATE users SET name = 'B'; INSERT INTO items (id) VALUES (1)");
    ASSERT_TRUE(s.sync(wait_limit));
    auto v = got.take();
    ASSERT_EQ(v.size(), 1u) << describe(v);  // items is no longer watched
    EXPECT_EQ(v[0], make("people", "update", "1", R"({"email":"a@x","name":"B"})", R"({"email":"a@x","name":"A"})"));
    EXPECT_EQ(db().scalar("SELECT count(*) FROM sqlite_schema WHERE type = 'trigger' AND tbl_name = 'items'"), 0);
}

TEST_F(lifecycle, an_explicit_key_for_a_composite_primary_key) {
    collector got;
    EXPECT_THROW(sqlite_source(got.make_notifier(), options({{"pairs", "", "", {}}})).start(), std::runtime_error);
    sqlite_source s(got.make_notifier(), options({{"pairs", "", "code", {"a", "b"}}}));
    s.start();
    db().exec("INSERT INTO pairs (a, b, code) VALUES (1, 2, 'x12'); DELETE FROM pairs");
    ASSERT_TRUE(s.sync(wait_limit));
    auto v = got.take();
    ASSERT_EQ(v.size(), 2u);
    EXPECT_EQ(v[0], make("pairs", "create", "x12", R"({"a":1,"b":2})"));
    EXPECT_EQ(v[1], make("pairs", "delete", "x12", std::nullopt, R"({"a":1,"b":2})"));
}

TEST_F(lifecycle, invalid_configurations_are_refused) {
    collector got;
    auto start = [&](std::vector<sqlite_table> t) { sqlite_source(got.make_notifier(), options(std::move(t))).start(); };
    EXPECT_THROW(start({{"missing", "", "", {}}}), std::runtime_error);
    EXPECT_THROW(start({{"users", "", "", {"no_such_column"}}}), std::runtime_error);
    EXPECT_THROW(start({{"users", "", "no_such_key", {}}}), std::runtime_error);
    EXPECT_THROW(start({{"_notifier_log", "", "", {}}}), std::runtime_error);
    EXPECT_THROW(start({{"users", "bad name", "", {}}}), std::invalid_argument);
    EXPECT_THROW(start({{"users", "", "", {}}, {"users", "again", "", {}}}), std::invalid_argument);
    EXPECT_THROW(start({}), std::invalid_argument);
    auto o = options();
    o.path = dir_.file("does-not-exist.db");
    EXPECT_THROW(sqlite_source(got.make_notifier(), o).start(), std::runtime_error);
    EXPECT_FALSE(std::filesystem::exists(o.path));  // never created behind the app's back
}

TEST_F(lifecycle, uninstall_removes_every_trace) {
    collector got;
    {
        sqlite_source s(got.make_notifier(), options());
        s.start();
    }
    sqlite_source::uninstall(path_);
    EXPECT_EQ(db().scalar("SELECT count(*) FROM sqlite_schema WHERE name LIKE '\\_notifier\\_%' ESCAPE '\\'"), 0);
    db().exec("INSERT INTO items (id) VALUES (1)");  // writers are unaffected
}

TEST_F(lifecycle, an_invalid_key_is_sent_without_id) {
    collector got;
    sqlite_source s(got.make_notifier(), options({{"users", "", "email", {}}}));
    s.start();
    db().exec("INSERT INTO users (id, email) VALUES (1, ''), (2, 'fine')");
    ASSERT_TRUE(s.sync(wait_limit));
    EXPECT_EQ(summary(got.take()), (std::vector<std::string>{"users create -", "users create fine"}));
    std::lock_guard lock(errors_mutex_);
    EXPECT_EQ(errors_.size(), 1u);
}

TEST_F(lifecycle, stats_count_changes_and_errors_and_follow_the_connection) {
    collector got;
    sqlite_source s(got.make_notifier(), options());
    EXPECT_FALSE(s.stats().connected);
    s.start();
    ASSERT_TRUE(s.sync(wait_limit));
    auto st = s.stats();
    EXPECT_TRUE(st.connected);
    EXPECT_EQ(st.changes, 0u);
    EXPECT_EQ(st.errors, 0u);

    db().exec("INSERT INTO items (id) VALUES (1), (2); DELETE FROM items WHERE id = 1");
    ASSERT_TRUE(s.sync(wait_limit));
    st = s.stats();
    EXPECT_EQ(st.changes, 3u);
    EXPECT_EQ(st.lag_ms, 0.0);

    // The log table disappears under the reader: it reports, counts and
    // drops its connection, then recovers once the table is back.
    db().exec("ALTER TABLE _notifier_log RENAME TO _notifier_log_away");
    ASSERT_TRUE(eventually([&] { return s.stats().errors >= 1 && !s.stats().connected; }));
    db().exec("ALTER TABLE _notifier_log_away RENAME TO _notifier_log; INSERT INTO items (id) VALUES (3)");
    ASSERT_TRUE(s.sync(wait_limit));
    st = s.stats();
    EXPECT_TRUE(st.connected);
    EXPECT_EQ(st.changes, 4u);
    EXPECT_EQ(summary(got.take()),
              (std::vector<std::string>{"items create 1", "items create 2", "items delete 1", "items create 3"}));
    std::lock_guard lock(errors_mutex_);
    ASSERT_FALSE(errors_.empty());
    EXPECT_NE(errors_.front().find("_notifier_log"), std::string::npos) << errors_.front();
    s.stop();
    EXPECT_FALSE(s.stats().connected);
}

}  // namespace
}  // namespace notifier::test
