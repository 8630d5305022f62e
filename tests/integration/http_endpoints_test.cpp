// SPDX-License-Identifier: MIT
// The hub's HTTP doors as an embedding application sets them: POST /publish
// and the built-in page turned off, and GET /readyz following the broker.

#include <notifier/broker/memory_broker.hpp>
#include <notifier/errors.hpp>

#include "support/forwarding_broker.hpp"
#include "support/http_client.hpp"
#include "support/test_server.hpp"
#include "support/ws_client.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>

namespace {

namespace http = boost::beast::http;
using namespace notifier::test;

bool is_error(const std::string& body, const std::string& code) {
    const auto v = boost::json::parse(body).as_object();
    return v.size() == 2 && v.at("error") == code.c_str() && !v.at("message").as_string().empty();
}

TEST(http_endpoints, a_hub_without_publish_endpoint_or_builtin_page_answers_404_there) {
    notifier::options o;
    o.publish_endpoint = false;
    o.builtin_page = false;
    test_server server(o);
    for (auto method : {http::verb::post, http::verb::get}) {
        auto [status, body] = http_call(server.port(), method, "/publish", R"({"collection":"c","action":"a"})");
        EXPECT_EQ(status, 404u) << body;
        EXPECT_TRUE(is_error(body, "not_found")) << body;
    }
    for (auto target : {"/", "/index.html"}) {
        auto [status, body] = http_get(server.port(), target);
        EXPECT_EQ(status, 404u) << target;
        EXPECT_TRUE(is_error(body, "not_found")) << body;
        EXPECT_EQ(http_call(server.port(), http::verb::post, target).first, 404u) << target;
    }
    // notify() is the way in, and the rest of the API is there.
    ws_client c(server.port());
    EXPECT_EQ(c.read_json().at("type"), "welcome");
    ASSERT_FALSE(server.make_notifier().notify("c", "a"));
    EXPECT_EQ(c.read_json().at("collection"), "c");
    EXPECT_EQ(http_get(server.port(), "/healthz").first, 200u);
    EXPECT_EQ(http_get(server.port(), "/readyz").first, 200u);
}

TEST(http_endpoints, by_default_both_are_served) {
    test_server server;
    EXPECT_EQ(http_post(server.port(), "/publish", R"({"collection":"c","action":"a"})").first, 202u);
    EXPECT_EQ(http_get(server.port(), "/").first, 200u);
}

TEST(http_endpoints, a_turned_off_publish_path_is_an_ordinary_path) {
    notifier::options o;
    o.publish_endpoint = false;
    o.app_routes = [](const notifier::http_request& req, notifier::http_responder respond) {
        if (req.path != "/publish") return false;
        respond({200, "text/plain", "the application's own /publish", {}});
        return true;
    };
    test_server server(o);
    auto [status, body] = http_post(server.port(), "/publish", R"({"collection":"c","action":"a"})");
    EXPECT_EQ(status, 200u);
    EXPECT_EQ(body, "the application's own /publish");
    EXPECT_EQ(server.get().stats().published, 0u);
}

// The memory broker behind a switch: available() and publish() fail while
// it is off, as the Redis broker's do while Redis is unreachable.
class switchable_broker final : public forwarding_broker {
public:
    explicit switchable_broker(std::shared_ptr<std::atomic<bool>> up) : up_(std::move(up)) {}
    void publish(std::span<const notifier::notification> batch, publish_handler done) override {
        if (!*up_) return done(notifier::errc::broker_unavailable, 0);
        forwarding_broker::publish(batch, std::move(done));
    }
    bool available() const noexcept override { return *up_; }

private:
    std::shared_ptr<std::atomic<bool>> up_;
};

TEST(http_endpoints, readyz_follows_whether_the_broker_takes_publications) {
    auto up = std::make_shared<std::atomic<bool>>(true);
    notifier::options o;
    o.listen_host = "127.0.0.1";
    o.listen_port = 0;
    notifier::hub hub(o, [up](boost::asio::io_context&) { return std::make_unique<switchable_broker>(up); });
    hub.start();
    auto [ready, ready_body] = http_get(hub.port(), "/readyz");
    EXPECT_EQ(ready, 200u);
    EXPECT_EQ(ready_body, R"({"status":"ready"})");

    *up = false;
    auto [down, down_body] = http_get(hub.port(), "/readyz");
    EXPECT_EQ(down, 503u);
    EXPECT_TRUE(is_error(down_body, "not_ready")) << down_body;
    // The verdict POST /publish gets; liveness is another matter.
    auto [refused, refused_body] = http_post(hub.port(), "/publish", R"({"collection":"c","action":"a"})");
    EXPECT_EQ(refused, 503u);
    EXPECT_TRUE(is_error(refused_body, "unavailable")) << refused_body;
    EXPECT_EQ(http_get(hub.port(), "/healthz").first, 200u);

    *up = true;
    EXPECT_EQ(http_get(hub.port(), "/readyz").first, 200u);
    EXPECT_EQ(http_post(hub.port(), "/publish", R"({"collection":"c","action":"a"})").first, 202u);
    hub.stop();
}

}  // namespace
