// SPDX-License-Identifier: MIT
// The old row of updates and deletes (`old`) against a real PostgreSQL
// server: install sets REPLICA IDENTITY FULL, so the server sends the whole
// old row; with the tables' replica identity kept, only the key columns of a
// deleted row and no old row for an update that keeps its key.

#include "postgres/pg_fixture.hpp"

#include <boost/json.hpp>

namespace notifier::test {
namespace {

using namespace std::chrono_literals;

boost::json::value json_of(const std::optional<std::string>& s) {
    return s ? boost::json::parse(*s) : boost::json::value();
}

class pg_old_row_test : public pg_test {
protected:
    /// The table's replica identity as pg_class has it: d, n, f or i.
    std::string replica_identity(const std::string& table) {
        return pg_writer(url_).exec("SELECT relreplident FROM pg_class WHERE oid = '" + table + "'::regclass");
    }
};

TEST_F(pg_old_row_test, an_update_carries_every_previous_column_as_old) {
    pg_writer w(url_);
    w.exec("CREATE TABLE posts (id serial PRIMARY KEY, forum_id int NOT NULL, title text, score float8, "
           "tags jsonb, pinned bool)");
    start(options({"posts"}));
    EXPECT_EQ(replica_identity("posts"), "f");
    w.exec("INSERT INTO posts (forum_id, title, score, tags, pinned) VALUES (7, 'Hello', 'NaN', '[1]', NULL)");
    w.exec("UPDATE posts SET title = 'Hello again', score = 2.5, pinned = true WHERE id = 1");
    const auto got = sink_.wait_for(2);
    ASSERT_EQ(got.size(), 2u);
    EXPECT_FALSE(got[0].old);  // a create has no old row
    EXPECT_EQ(got[1].action, "update");
    EXPECT_EQ(got[1].id, "1");
    // Encoded as data is: the same names and the same types.
    EXPECT_EQ(json_of(got[1].old), boost::json::parse(R"({"id":1,"forum_id":7,"title":"Hello","score":"NaN",)"
                                                      R"("tags":[1],"pinned":null})"));
    EXPECT_EQ(json_of(got[1].data), boost::json::parse(R"({"id":1,"forum_id":7,"title":"Hello again",)"
                                                       R"("score":2.5,"tags":[1],"pinned":true})"));
    EXPECT_FALSE(validate(got[1]));
}

TEST_F(pg_old_row_test, a_delete_carries_the_whole_old_row) {
    pg_writer w(url_);
    w.exec("CREATE TABLE posts (id int PRIMARY KEY, forum_id int NOT NULL, title text)");
    start(options({"posts"}));
    w.exec("INSERT INTO posts VALUES (1, 7, 'gone')");
    w.exec("DELETE FROM posts WHERE id = 1");
    const auto got = sink_.wait_for(2);
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[1].action, "delete");
    EXPECT_EQ(got[1].id, "1");
    const auto row = boost::json::parse(R"({"id":1,"forum_id":7,"title":"gone"})");
    EXPECT_EQ(json_of(got[1].old), row);
    EXPECT_EQ(json_of(got[1].data), row);
}

TEST_F(pg_old_row_test, with_the_replica_identity_kept_deletes_carry_the_key_and_updates_no_old) {
    pg_writer w(url_);
    w.exec("CREATE TABLE posts (id int, lang text, forum_id int NOT NULL, PRIMARY KEY (id, lang))");
    auto o = options({"posts"});
    o.keep_replica_identity = true;
    auto& s = start(o);
    EXPECT_EQ(replica_identity("posts"), "d");
    w.exec("INSERT INTO posts VALUES (1, 'en', 7)");
    w.exec("UPDATE posts SET forum_id = 8 WHERE id = 1");  // the key stays: no old row
    w.exec("UPDATE posts SET lang = 'fr' WHERE id = 1");   // the key changes: the old key
    w.exec("DELETE FROM posts WHERE id = 1");
    ASSERT_TRUE(s.sync(10s));
    const auto got = sink_.snapshot();
    ASSERT_EQ(got.size(), 5u);
    EXPECT_EQ(got[1].action, "update");
    EXPECT_FALSE(got[1].old);
    EXPECT_EQ(json_of(got[1].data).at("forum_id"), 8);
    EXPECT_EQ(got[2].action, "delete");
    EXPECT_EQ(got[2].id, "1,en");
    EXPECT_EQ(json_of(got[2].old), boost::json::parse(R"({"id":1,"lang":"en"})"));
    EXPECT_EQ(got[3].action, "create");
    EXPECT_EQ(got[4].action, "delete");
    EXPECT_EQ(got[4].id, "1,fr");
    // The key columns only: a filter on forum_id finds it absent (and over-delivers).
    EXPECT_EQ(json_of(got[4].old), boost::json::parse(R"({"id":1,"lang":"fr"})"));
    EXPECT_EQ(json_of(got[4].data), boost::json::parse(R"({"id":1,"lang":"fr"})"));
}

TEST_F(pg_old_row_test, unchanged_toast_columns_come_from_the_full_old_row_and_are_left_out_without_it) {
    pg_writer w(url_);
    // EXTERNAL: stored out of line uncompressed, so a 10 kB value is TOASTed.
    w.exec("CREATE TABLE full_docs (id int PRIMARY KEY, title text, body text);"
           "ALTER TABLE full_docs ALTER COLUMN body SET STORAGE EXTERNAL;"
           "CREATE TABLE key_docs (id int PRIMARY KEY, title text, body text);"
           "ALTER TABLE key_docs ALTER COLUMN body SET STORAGE EXTERNAL");
    auto& s = start(options({"full_docs", "key_docs"}));
    w.exec("ALTER TABLE key_docs REPLICA IDENTITY DEFAULT");
    const std::string body(10000, 'x');
    for (const std::string t : {"full_docs", "key_docs"}) {
        w.exec("INSERT INTO " + t + " VALUES (1, 'a', repeat('x', 10000))");
        w.exec("UPDATE " + t + " SET title = 'b' WHERE id = 1");
    }
    ASSERT_TRUE(s.sync(10s));
    const auto got = sink_.snapshot();
    ASSERT_EQ(got.size(), 4u);
    ASSERT_EQ(got[1].collection, "full_docs");
    EXPECT_EQ(json_of(got[1].old), (boost::json::object{{"id", 1}, {"title", "a"}, {"body", body}}));
    EXPECT_EQ(json_of(got[1].data), (boost::json::object{{"id", 1}, {"title", "b"}, {"body", body}}));
    // Default identity: the unchanged body is not sent, so not in data, and no old row.
    ASSERT_EQ(got[3].collection, "key_docs");
    EXPECT_EQ(json_of(got[3].data), boost::json::parse(R"({"id":1,"title":"b"})"));
    EXPECT_FALSE(got[3].old);
}

TEST_F(pg_old_row_test, an_old_row_above_the_limit_is_left_out_and_the_change_still_arrives) {
    pg_writer w(url_);
    w.exec("CREATE TABLE docs (id int PRIMARY KEY, body text)");
    auto o = options({"docs"});
    o.max_data_bytes = 1000;
    start(o);
    w.exec("INSERT INTO docs VALUES (1, repeat('x', 2000))");
    w.exec("UPDATE docs SET body = 'short' WHERE id = 1");
    const auto got = sink_.wait_for(2);
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[1].action, "update");
    EXPECT_FALSE(got[1].old);  // never cut
    // Nor sent alone as data: a filter the row left would not see it go.
    EXPECT_FALSE(got[1].data);
    EXPECT_TRUE(got[1].data_omitted);
}

TEST_F(pg_old_row_test, install_sets_full_identity_once_and_keeping_leaves_the_tables_alone) {
    pg_writer w(url_);
    w.exec("CREATE TABLE t (id int PRIMARY KEY); CREATE TABLE u (id int PRIMARY KEY);"
           "CREATE SCHEMA \"Other\"; CREATE TABLE \"Other\".\"Mixed\" (id int PRIMARY KEY)");
    auto keep = options({"t"});
    keep.keep_replica_identity = true;
    EXPECT_EQ(postgres_source::install_sql(keep).find("REPLICA IDENTITY"), std::string::npos);
    postgres_source::install(keep);
    EXPECT_EQ(replica_identity("t"), "d");

    // Already installed: a second install, without keeping, sets it.
    auto o = options({"t", "u", "Other.Mixed"});
    const auto sql = postgres_source::install_sql(o);
    EXPECT_NE(sql.find("ALTER TABLE \"Other\".\"Mixed\" REPLICA IDENTITY FULL"), std::string::npos) << sql;
    EXPECT_LT(sql.find("REPLICA IDENTITY FULL"), sql.find("PUBLICATION")) << sql;
    postgres_source::install(o);
    EXPECT_EQ(replica_identity("t"), "f");
    EXPECT_EQ(replica_identity("u"), "f");
    EXPECT_EQ(replica_identity("\"Other\".\"Mixed\""), "f");
    // Idempotent, and a table already FULL is not altered again: the ALTER
    // would wait for the ACCESS EXCLUSIVE lock behind this reader.
    pg_writer reader(url_);
    reader.exec("BEGIN");
    reader.exec("SELECT count(*) FROM t");
    auto impatient = o;
    impatient.conninfo = url_ + "?options=-c%20lock_timeout%3D2000";
    EXPECT_NO_THROW(postgres_source::install(impatient));
    reader.exec("COMMIT");
    EXPECT_EQ(replica_identity("t"), "f");
    // Keeping leaves FULL as it is too; uninstall does not revert it.
    postgres_source::install(keep);
    EXPECT_EQ(replica_identity("t"), "f");
    postgres_source::uninstall(o);
    EXPECT_EQ(replica_identity("t"), "f");
}

}  // namespace
}  // namespace notifier::test
