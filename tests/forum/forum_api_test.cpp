// SPDX-License-Identifier: MIT
// The forum's REST API: every endpoint, status and error body, and the
// notifications its writes (and anyone else's) cause through the capture.

#include "forum_options.hpp"
#include "rest_api.hpp"
#include "sqlite/sqlite_fixture.hpp"
#include "support/http_client.hpp"
#include "support/test_server.hpp"
#include "support/ws_client.hpp"

#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include <filesystem>
#include <fstream>

namespace notifier::test {
namespace {

namespace http = boost::beast::http;
namespace json = boost::json;

using response = http_response;

class forum_api : public ::testing::Test {
protected:
    forum_api()
        : path_(dir_.file("forum.db")),
          api_(path_, [this] {
              if (auto* s = source_.load()) s->wake();
          }),
          // The demo's own hub options, with a stand-in for the built app.
          server_([this] {
              forum::forum_options cfg;
              cfg.static_dir = dir_.file("public");
              std::filesystem::create_directories(cfg.static_dir);
              std::ofstream(cfg.static_dir + "/index.html") << app_page;
              return forum::hub_options(cfg, api_.handler());
          }()) {
        sqlite_source_options o;
        o.path = path_;
        o.tables = {{"forums", "", "", {"name"}}, {"posts", "", "", {"forum_id", "title", "body"}}};
        capture_ = std::make_unique<sqlite_source>(server_.make_notifier(), std::move(o));
        capture_->start();
        source_ = capture_.get();
    }
    ~forum_api() override {
        api_.stop();
        source_ = nullptr;
        capture_->stop();
    }

    // A request without a body has no Content-Type.
    response call(http::verb method, const std::string& target, const std::string& body = {},
                  const std::string& content_type = "application/json") {
        return http_request(server_.port(), method, target, body, body.empty() ? "" : content_type);
    }
    response get(const std::string& t) { return call(http::verb::get, t); }
    response post(const std::string& t, const std::string& body) { return call(http::verb::post, t, body); }
    response put(const std::string& t, const std::string& body) { return call(http::verb::put, t, body); }
    response del(const std::string& t) { return call(http::verb::delete_, t); }

    /// A JSON error body with this status and code.
    void expect_error(const response& r, unsigned status, const std::string& code) {
        EXPECT_EQ(r.status, status) << r.body;
        EXPECT_EQ(r.content_type, "application/json");
        auto v = json::parse(r.body).as_object();
        EXPECT_EQ(v.size(), 2u) << r.body;
        EXPECT_EQ(v.at("error"), code.c_str()) << r.body;
        EXPECT_FALSE(v.at("message").as_string().empty());
    }

    static constexpr std::string_view app_page = "<!doctype html><title>forum app</title>";
    temp_dir dir_;
    std::string path_;
    std::atomic<sqlite_source*> source_{nullptr};
    forum::rest_api api_;
    test_server server_;
    std::unique_ptr<sqlite_source> capture_;
};

TEST_F(forum_api, forums_crud) {
    auto created = post("/api/forums", R"({"name":"  General  "})");
    EXPECT_EQ(created.status, 201u);
    EXPECT_EQ(created.json(), json::parse(R"({"id":1,"name":"General"})"));
    EXPECT_EQ(created.location, "/api/forums/1");
    EXPECT_EQ(created.cache_control, "no-store");
    post("/api/forums", R"({"name":"Off topic"})");

    auto list = get("/api/forums");
    EXPECT_EQ(list.status, 200u);
    EXPECT_EQ(list.json(), json::parse(R"([{"id":1,"name":"General"},{"id":2,"name":"Off topic"}])"));
    EXPECT_EQ(get("/api/forums/2").json(), json::parse(R"({"id":2,"name":"Off topic"})"));

    auto renamed = put("/api/forums/2", R"({"name":"Chat"})");
    EXPECT_EQ(renamed.status, 200u);
    EXPECT_EQ(renamed.json(), json::parse(R"({"id":2,"name":"Chat"})"));
    // A PUT of an object as read (with its id) is fine.
    EXPECT_EQ(put("/api/forums/2", R"({"id":2,"name":"Chat 2"})").status, 200u);

    auto deleted = del("/api/forums/1");
    EXPECT_EQ(deleted.status, 204u);
    EXPECT_TRUE(deleted.body.empty());
    expect_error(get("/api/forums/1"), 404, "not_found");
    expect_error(put("/api/forums/1", R"({"name":"x"})"), 404, "not_found");
    expect_error(del("/api/forums/1"), 404, "not_found");
    expect_error(get("/api/forums/abc"), 404, "not_found");
    expect_error(get("/api/forums/007"), 404, "not_found");
    EXPECT_EQ(get("/api/forums").json(), json::parse(R"([{"id":2,"name":"Chat 2"}])"));
}

TEST_F(forum_api, posts_crud_and_filter) {
    post("/api/forums", R"({"name":"A"})");
    post("/api/forums", R"({"name":"B"})");
    auto p1 = post("/api/posts", R"({"forum_id":1,"title":"Hello","body":"First!"})");
    EXPECT_EQ(p1.status, 201u);
    EXPECT_EQ(p1.json(), json::parse(R"({"id":1,"forum_id":1,"title":"Hello","body":"First!"})"));
    EXPECT_EQ(p1.location, "/api/posts/1");
    auto p2 = post("/api/posts", R"({"forum_id":2,"title":"No body"})");
    EXPECT_EQ(p2.json(), json::parse(R"({"id":2,"forum_id":2,"title":"No body","body":""})"));
    post("/api/posts", R"({"forum_id":1,"title":"Again","body":""})");

    EXPECT_EQ(get("/api/posts").json().as_array().size(), 3u);
    auto in1 = get("/api/posts?forum_id=1").json().as_array();
    ASSERT_EQ(in1.size(), 2u);
    EXPECT_EQ(in1[1].at("title"), "Again");
    EXPECT_EQ(get("/api/posts?forum_id=99").json(), json::array());
    expect_error(get("/api/posts?forum_id=x"), 400, "invalid_query");
    expect_error(get("/api/posts?forum_id=0"), 400, "invalid_query");

    auto moved = put("/api/posts/1", R"({"forum_id":2,"title":"Hello","body":"moved"})");
    EXPECT_EQ(moved.status, 200u);
    EXPECT_EQ(moved.json(), json::parse(R"({"id":1,"forum_id":2,"title":"Hello","body":"moved"})"));
    expect_error(put("/api/posts/1", R"({"forum_id":9,"title":"x"})"), 400, "unknown_forum");
    expect_error(put("/api/posts/42", R"({"forum_id":1,"title":"x"})"), 404, "not_found");
    expect_error(post("/api/posts", R"({"forum_id":9,"title":"x"})"), 400, "unknown_forum");

    EXPECT_EQ(del("/api/posts/2").status, 204u);
    expect_error(get("/api/posts/2"), 404, "not_found");
    expect_error(del("/api/posts/2"), 404, "not_found");
    // Deleting a forum deletes its posts.
    EXPECT_EQ(del("/api/forums/2").status, 204u);
    expect_error(get("/api/posts/1"), 404, "not_found");
}

TEST_F(forum_api, invalid_input_is_a_clear_400) {
    post("/api/forums", R"({"name":"A"})");
    expect_error(post("/api/forums", "{"), 400, "invalid_json");
    expect_error(post("/api/forums", R"(["name"])"), 400, "invalid_body");
    expect_error(post("/api/forums", R"({})"), 400, "invalid_field");
    expect_error(post("/api/forums", R"({"name":"   "})"), 400, "invalid_field");
    expect_error(post("/api/forums", R"({"name":7})"), 400, "invalid_field");
    expect_error(post("/api/forums", R"({"name":")" + std::string(101, 'x') + R"("})"), 400, "invalid_field");
    expect_error(post("/api/forums", R"({"name":"x","color":"red"})"), 400, "unknown_field");
    expect_error(post("/api/forums", R"({"id":5,"name":"x"})"), 400, "invalid_field");
    expect_error(put("/api/forums/1", R"({"id":2,"name":"x"})"), 400, "invalid_field");
    expect_error(post("/api/posts", R"({"title":"x"})"), 400, "invalid_field");
    expect_error(post("/api/posts", R"({"forum_id":"1","title":"x"})"), 400, "invalid_field");
    expect_error(post("/api/posts", R"({"forum_id":1.5,"title":"x"})"), 400, "invalid_field");
    expect_error(post("/api/posts", R"({"forum_id":1,"title":""})"), 400, "invalid_field");
    expect_error(post("/api/posts", R"({"forum_id":1,"title":"x","body":false})"), 400, "invalid_field");
    expect_error(call(http::verb::post, "/api/forums", R"({"name":"x"})", "text/plain"), 415, "unsupported_media_type");
    EXPECT_EQ(get("/api/forums").json().as_array().size(), 1u);  // nothing was created
}

TEST_F(forum_api, unknown_paths_and_methods) {
    expect_error(get("/api/users"), 404, "not_found");
    expect_error(get("/api"), 404, "not_found");
    auto r = call(http::verb::patch, "/api/forums", R"({"name":"x"})");
    expect_error(r, 405, "method_not_allowed");
    EXPECT_EQ(r.allow, "GET, HEAD, POST");
    r = call(http::verb::post, "/api/forums/1", R"({"name":"x"})");
    expect_error(r, 405, "method_not_allowed");
    EXPECT_EQ(r.allow, "GET, HEAD, PUT, DELETE");
    // The hub's own endpoints are not the API's.
    EXPECT_EQ(get("/healthz").status, 200u);
}

TEST_F(forum_api, writes_are_notified_by_the_capture) {
    ws_client ws(server_.port(), "/ws?collections=forums,posts");
    ws.read_json();  // welcome
    post("/api/forums", R"({"name":"General"})");
    EXPECT_EQ(ws.read_json(), json::parse(R"({"seq":1,"collection":"forums","action":"create","id":"1",)"
                                          R"("data":{"name":"General"}})"));
    post("/api/posts", R"({"forum_id":1,"title":"Hi","body":"there"})");
    EXPECT_EQ(ws.read_json(), json::parse(R"({"seq":2,"collection":"posts","action":"create","id":"1",)"
                                          R"("data":{"forum_id":1,"title":"Hi","body":"there"}})"));
    put("/api/forums/1", R"({"name":"Main"})");
    EXPECT_EQ(ws.read_json().at("action"), "update");
    // Invalid input writes nothing, so nothing is notified.
    post("/api/posts", R"({"forum_id":7,"title":"nope"})");
    // Another process: the sqlite3 shell.
    sqlite3_shell(path_, "INSERT INTO forums (name) VALUES ('From the shell');");
    auto shell = ws.read_json();
    EXPECT_EQ(shell.at("seq"), 4);
    EXPECT_EQ(shell.at("data"), json::parse(R"({"name":"From the shell"})"));
    // A forum's deletion takes its posts along: both are notified.
    del("/api/forums/1");
    std::vector<std::string> seen;
    for (int i = 0; i < 2; ++i) {
        auto n = ws.read_json();
        seen.push_back(std::string(n.at("collection").as_string()) + " " + std::string(n.at("action").as_string()));
    }
    std::sort(seen.begin(), seen.end());
    EXPECT_EQ(seen, (std::vector<std::string>{"forums delete", "posts delete"}));
}

// Its notifications come from the capture only: the hub's own doors for
// publishing and its built-in page are closed, the app is served.
TEST_F(forum_api, serves_the_app_but_no_publish_endpoint_or_builtin_page) {
    const std::string notification = R"({"collection":"forums","action":"create"})";
    expect_error(post("/publish", notification), 404, "not_found");
    expect_error(call(http::verb::get, "/publish"), 404, "not_found");
    const auto page = get("/");
    EXPECT_EQ(page.status, 200u);
    EXPECT_EQ(page.body, app_page);
    EXPECT_EQ(get("/index.html").body, app_page);
    EXPECT_EQ(get("/api/forums").status, 200u);
    EXPECT_EQ(server_.get().stats().published, 0u);
}

}  // namespace
}  // namespace notifier::test
