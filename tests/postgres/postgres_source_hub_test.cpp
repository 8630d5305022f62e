// SPDX-License-Identifier: MIT
// notifier::postgres through a real hub and a WebSocket client: captured
// changes get seqs and reach subscribers; a lost slot makes every client
// resync (a new epoch), so nobody keeps state that silently missed changes.

#include "postgres/pg_fixture.hpp"
#include "support/test_server.hpp"
#include "support/ws_client.hpp"

namespace notifier::test {
namespace {

using namespace std::chrono_literals;

TEST_F(pg_test, subscribers_receive_committed_rows_and_resync_when_the_slot_was_lost) {
    pg_writer w(url_);
    w.exec("CREATE TABLE forums (id int PRIMARY KEY, name text); CREATE TABLE posts (id int PRIMARY KEY)");
    test_server server;
    auto o = options({"forums", "posts"});
    postgres_source source(server.make_notifier(), o);
    source.start();

    ws_client client(server.port(), "/ws?collections=forums");
    const auto welcome = client.read_json();
    ASSERT_EQ(welcome.at("type"), "welcome");
    const std::string epoch(welcome.at("epoch").as_string());
    w.exec("INSERT INTO posts VALUES (1); INSERT INTO forums VALUES (7, 'General')");
    EXPECT_EQ(client.read_json(), boost::json::parse(R"({"seq":2,"collection":"forums","action":"create","id":"7",)"
                                                     R"("data":{"id":7,"name":"General"}})"));

    source.stop();
    drop_slot();
    w.exec("UPDATE forums SET name = 'lost' WHERE id = 7");  // nobody can know of this one
    source.start();
    const auto resync = client.read_json();
    EXPECT_EQ(resync.at("type"), "resync");
    EXPECT_NE(resync.at("epoch").as_string(), epoch);
    w.exec("UPDATE forums SET name = 'after' WHERE id = 7");
    const auto next = client.read_json();
    EXPECT_EQ(next.at("seq"), 1);  // the new epoch starts over
    EXPECT_EQ(next.at("data").at("name"), "after");
    EXPECT_EQ(source.stats().resyncs, 1u);
    source.stop();
}

}  // namespace
}  // namespace notifier::test
