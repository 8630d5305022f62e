// SPDX-License-Identifier: MIT
// Log lines: logfmt quoting and escaping, levels, and the line format.

#include "log.hpp"

#include <gtest/gtest.h>

#include <regex>
#include <stdexcept>
#include <vector>

using notifier::append_logfmt_value;
using notifier::log_level;
using notifier::logger;

namespace {

std::string value(std::string_view v) {
    std::string out;
    append_logfmt_value(out, v);
    return out;
}

}  // namespace

TEST(log, plain_values_are_bare) {
    EXPECT_EQ(value("ws_open"), "ws_open");
    EXPECT_EQ(value("127.0.0.1:53412"), "127.0.0.1:53412");
    EXPECT_EQ(value("[::1]:80"), "[::1]:80");
}

TEST(log, other_values_are_quoted_and_escaped) {
    EXPECT_EQ(value(""), "\"\"");
    EXPECT_EQ(value("slow consumer"), "\"slow consumer\"");
    EXPECT_EQ(value("a=b"), "\"a=b\"");
    EXPECT_EQ(value("say \"hi\""), "\"say \\\"hi\\\"\"");
    EXPECT_EQ(value("back\\slash"), "\"back\\\\slash\"");
    EXPECT_EQ(value("line\nbreak\r\ttab"), "\"line\\nbreak\\r\\ttab\"");
    EXPECT_EQ(value(std::string_view("nul\0bell\x07", 9)), "\"nul\\u0000bell\\u0007\"");
    EXPECT_EQ(value("del\x7f"), "\"del\\u007f\"");
    EXPECT_EQ(value("caf\xc3\xa9"), "\"caf\xc3\xa9\"");      // valid UTF-8 kept
    EXPECT_EQ(value("bad\xff\xfe"), "\"bad\\xff\\xfe\"");  // invalid UTF-8 escaped
}

TEST(log, lines_have_timestamp_level_event_and_fields) {
    std::vector<std::string> lines;
    logger lg(log_level::debug, [&](std::string_view l) { lines.emplace_back(l); });
    NOTIFIER_LOG_DEBUG(lg, "ws_open", {"session", std::uint64_t{12}}, {"remote", "127.0.0.1:53412"},
                       {"subscriptions", 2}, {"resume", false}, {"lag", 0.5}, {"delta", -3});
    NOTIFIER_LOG_WARN(lg, "publish_failed", {"error", std::string("broker unavailable")});
    NOTIFIER_LOG_INFO(lg, "stopped");
    ASSERT_EQ(lines.size(), 3u);
    const std::regex stamp(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z )");
    for (const auto& l : lines) EXPECT_TRUE(std::regex_search(l, stamp)) << l;
    EXPECT_EQ(lines[0].substr(25),
              "level=debug event=ws_open session=12 remote=127.0.0.1:53412 subscriptions=2 resume=false lag=0.5 delta=-3");
    EXPECT_EQ(lines[1].substr(25), "level=warn event=publish_failed error=\"broker unavailable\"");
    EXPECT_EQ(lines[2].substr(25), "level=info event=stopped");
}

TEST(log, levels_below_the_minimum_are_not_written_nor_built) {
    std::vector<std::string> lines;
    logger lg(log_level::warn, [&](std::string_view l) { lines.emplace_back(l); });
    int built = 0;
    auto field = [&] {
        ++built;
        return std::string("x");
    };
    NOTIFIER_LOG_DEBUG(lg, "a", {"v", field()});
    NOTIFIER_LOG_INFO(lg, "b", {"v", field()});
    NOTIFIER_LOG_WARN(lg, "c", {"v", field()});
    NOTIFIER_LOG_ERROR(lg, "d", {"v", field()});
    EXPECT_EQ(built, 2);
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_NE(lines[0].find("level=warn event=c v=x"), std::string::npos);
    EXPECT_NE(lines[1].find("level=error event=d v=x"), std::string::npos);
    EXPECT_FALSE(lg.enabled(log_level::info));
    EXPECT_TRUE(lg.enabled(log_level::error));
}

TEST(log, off_writes_nothing) {
    std::vector<std::string> lines;
    logger lg(log_level::off, [&](std::string_view l) { lines.emplace_back(l); });
    NOTIFIER_LOG_ERROR(lg, "x");
    lg.write(log_level::off, "y", {});
    EXPECT_TRUE(lines.empty());
}

TEST(log, a_throwing_sink_does_not_escape) {
    logger lg(log_level::info, [](std::string_view) { throw std::runtime_error("disk full"); });
    EXPECT_NO_THROW(NOTIFIER_LOG_INFO(lg, "x"));
}

TEST(log, level_names_round_trip) {
    for (auto l : {log_level::trace, log_level::debug, log_level::info, log_level::warn, log_level::error,
                   log_level::off}) {
        log_level parsed = log_level::info;
        EXPECT_TRUE(notifier::parse_log_level(notifier::log_level_name(l), parsed));
        EXPECT_EQ(parsed, l);
    }
    log_level unchanged = log_level::error;
    EXPECT_FALSE(notifier::parse_log_level("warning", unchanged));
    EXPECT_FALSE(notifier::parse_log_level("INFO", unchanged));
    EXPECT_FALSE(notifier::parse_log_level("", unchanged));
    EXPECT_EQ(unchanged, log_level::error);
}
