// SPDX-License-Identifier: MIT
// notifier::sqlite through a real hub: captured changes get seqs, reach
// subscribers over WebSocket and can be resumed like any notification.

#include "sqlite/sqlite_fixture.hpp"
#include "support/test_server.hpp"
#include "support/ws_client.hpp"

namespace notifier::test {
namespace {

class through_hub : public ::testing::Test {
protected:
    void SetUp() override {
        path_ = dir_.file("forum.db");
        db_writer w(path_);
        w.exec("PRAGMA journal_mode=WAL;"
               "CREATE TABLE forums (id INTEGER PRIMARY KEY, name TEXT NOT NULL);"
               "CREATE TABLE posts (id INTEGER PRIMARY KEY, forum_id INTEGER NOT NULL, title TEXT NOT NULL);");
        sqlite_source_options o;
        o.path = path_;
        o.tables = {{"forums", "", "", {"name"}}, {"posts", "", "", {"forum_id", "title"}}};
        source_ = std::make_unique<sqlite_source>(server_.make_notifier(), std::move(o));
        source_->start();
    }
    void TearDown() override { source_->stop(); }

    temp_dir dir_;
    std::string path_;
    test_server server_;
    std::unique_ptr<sqlite_source> source_;
};

TEST_F(through_hub, subscribers_receive_committed_changes_with_seqs) {
    ws_client forums(server_.port(), "/ws?collections=forums");
    ws_client post7(server_.port(), "/ws?collections=posts/7");
    const auto welcome = forums.read_json();
    ASSERT_EQ(welcome.at("type"), "welcome");
    post7.read_json();

    db_writer w(path_);
    w.exec("INSERT INTO forums (id, name) VALUES (1, 'General');"
           "BEGIN; INSERT INTO posts (id, forum_id, title) VALUES (6, 1, 'gone'); ROLLBACK;"
           "INSERT INTO posts (id, forum_id, title) VALUES (7, 1, 'Hello')");
    const auto f = forums.read_json();
    EXPECT_EQ(f, boost::json::parse(R"({"seq":1,"collection":"forums","action":"create","id":"1",)"
                                    R"("data":{"name":"General"}})"));
    const auto p = post7.read_json();
    EXPECT_EQ(p, boost::json::parse(R"({"seq":2,"collection":"posts","action":"create","id":"7",)"
                                    R"("data":{"forum_id":1,"title":"Hello"}})"));
}

TEST_F(through_hub, a_moved_post_reaches_subscribers_with_its_old_row_after_data) {
    db_writer w(path_);
    w.exec("INSERT INTO posts (id, forum_id, title) VALUES (7, 1, 'Hello')");
    ASSERT_TRUE(source_->sync(wait_limit));
    ws_client post7(server_.port(), "/ws?collections=posts/7");
    post7.read_json();
    w.exec("BEGIN; UPDATE posts SET forum_id = 2 WHERE id = 7; DELETE FROM posts WHERE id = 7; COMMIT");
    const auto moved = post7.read_json();
    EXPECT_EQ(moved, boost::json::parse(R"({"seq":2,"collection":"posts","action":"update","id":"7",)"
                                        R"("data":{"forum_id":2,"title":"Hello"},)"
                                        R"("old":{"forum_id":1,"title":"Hello"}})"));
    std::vector<std::string> keys;
    for (const auto& kv : moved) keys.emplace_back(kv.key());
    EXPECT_EQ(keys, (std::vector<std::string>{"seq", "collection", "action", "id", "data", "old"}));
    EXPECT_EQ(post7.read_json(), boost::json::parse(R"({"seq":3,"collection":"posts","action":"delete","id":"7",)"
                                                    R"("old":{"forum_id":2,"title":"Hello"}})"));
}

TEST_F(through_hub, a_client_resumes_what_it_missed) {
    std::string epoch;
    std::int64_t cursor = 0;
    {
        ws_client c(server_.port(), "/ws?collections=forums");
        auto w = c.read_json();
        epoch = std::string(w.at("epoch").as_string());
        db_writer db(path_);
        db.exec("INSERT INTO forums (id, name) VALUES (1, 'a')");
        cursor = c.read_json().at("seq").as_int64();
    }
    // Changed while the client is away, by another process.
    sqlite3_shell(path_, "INSERT INTO forums (id, name) VALUES (2, 'b'); UPDATE forums SET name = 'a2' WHERE id = 1;");
    ASSERT_TRUE(source_->sync(wait_limit));
    ws_client c(server_.port(), "/ws?collections=forums&since=" + std::to_string(cursor) + "&epoch=" + epoch);
    const auto w = c.read_json();
    EXPECT_EQ(w.at("resumed"), true);
    const auto a = c.read_json();
    const auto b = c.read_json();
    EXPECT_EQ(a.at("seq").as_int64(), cursor + 1);
    EXPECT_EQ(a.at("id"), "2");
    EXPECT_EQ(b.at("action"), "update");
    EXPECT_EQ(b.at("data"), boost::json::parse(R"({"name":"a2"})"));
}

TEST(sqlite_source_with_a_busy_hub, an_overloaded_hub_gets_the_rows_again) {
    temp_dir dir;
    const auto path = dir.file("app.db");
    db_writer w(path);
    w.exec("CREATE TABLE items (id INTEGER PRIMARY KEY)");
    options o;
    o.max_pending_notifications = 3;  // smaller than one transaction's rows
    test_server server(o);
    sqlite_source_options so;
    so.path = path;
    so.tables = {{"items", "", "", {}}};
    so.poll_interval = std::chrono::milliseconds(5);
    sqlite_source source(server.make_notifier(), so);
    source.start();
    ws_client ws(server.port(), "/ws?collections=items");
    ws.read_json();
    w.exec("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20) "
           "INSERT INTO items (id) SELECT i FROM n");
    for (int i = 1; i <= 20; ++i) {
        const auto n = ws.read_json();
        ASSERT_EQ(n.at("seq"), i);
        ASSERT_EQ(n.at("id"), std::to_string(i).c_str());
    }
    EXPECT_TRUE(source.sync(wait_limit));
}

}  // namespace
}  // namespace notifier::test
