// SPDX-License-Identifier: MIT
#pragma once
// Structured logs: one line per event, logfmt style, e.g.
//   2026-11-28T08:00:00.123Z level=debug event=ws_open session=12 remote=127.0.0.1:53412
// Written through spdlog, which only log.cpp sees, to stderr or
// options::log_sink. Use the NOTIFIER_LOG macros: when the level is off they
// cost one comparison and do not even build their fields.

#include <notifier/options.hpp>

#include <concepts>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>

namespace spdlog {
class logger;
}

namespace notifier {

/// One key=value of a log line. Holds views: it lives for the call only.
class log_field {
public:
    log_field(std::string_view key, std::string_view v) noexcept : key_(key), kind_(kind::text), text_(v) {}
    log_field(std::string_view key, const std::string& v) noexcept : log_field(key, std::string_view(v)) {}
    log_field(std::string_view key, const char* v) noexcept : log_field(key, std::string_view(v)) {}
    log_field(std::string_view key, bool v) noexcept : key_(key), kind_(kind::boolean), u64_(v) {}
    template <std::signed_integral T>
    log_field(std::string_view key, T v) noexcept : key_(key), kind_(kind::i64), i64_(v) {}
    template <std::unsigned_integral T>
    log_field(std::string_view key, T v) noexcept : key_(key), kind_(kind::u64), u64_(v) {}
    log_field(std::string_view key, double v) noexcept : key_(key), kind_(kind::f64), f64_(v) {}

    /// Appends ` key=value`, quoting and escaping the value when logfmt needs it.
    void append_to(std::string& out) const;

private:
    enum class kind { text, boolean, i64, u64, f64 };
    std::string_view key_;
    kind kind_;
    std::string_view text_;
    union {
        std::int64_t i64_;
        std::uint64_t u64_;
        double f64_;
    };
};

/// Appends `v` as a logfmt value: bare when it is a non-empty run of
/// printable ASCII without `"`, `=` or `\`, otherwise quoted with `\"`, `\\`,
/// `\n`, `\r`, `\t`, `\u00XX` for other control bytes and `\xXX` for bytes
/// that are not valid UTF-8.
void append_logfmt_value(std::string& out, std::string_view v);

/// One per hub: several hubs in a process log independently.
class logger {
public:
    /// Lines go to `sink` (without the newline), or to stderr when empty.
    logger(log_level min, std::function<void(std::string_view)> sink);
    ~logger();
    logger(const logger&) = delete;
    logger& operator=(const logger&) = delete;

    bool enabled(log_level l) const noexcept { return l >= min_ && l != log_level::off; }
    /// Writes `level=<l> event=<event>` and the fields. Thread-safe; never throws.
    void write(log_level l, std::string_view event, std::initializer_list<log_field> fields) const noexcept;

private:
    log_level min_;
    std::shared_ptr<spdlog::logger> out_;
};

}  // namespace notifier

/// NOTIFIER_LOG(logger, notifier::log_level::debug, "ws_open", {"session", id}, …)
#define NOTIFIER_LOG(lg, lvl, event, ...)                                      \
    do {                                                                       \
        if ((lg).enabled(lvl)) (lg).write((lvl), (event), {__VA_ARGS__});      \
    } while (false)
#define NOTIFIER_LOG_DEBUG(lg, event, ...) NOTIFIER_LOG(lg, ::notifier::log_level::debug, event, __VA_ARGS__)
#define NOTIFIER_LOG_INFO(lg, event, ...) NOTIFIER_LOG(lg, ::notifier::log_level::info, event, __VA_ARGS__)
#define NOTIFIER_LOG_WARN(lg, event, ...) NOTIFIER_LOG(lg, ::notifier::log_level::warn, event, __VA_ARGS__)
#define NOTIFIER_LOG_ERROR(lg, event, ...) NOTIFIER_LOG(lg, ::notifier::log_level::error, event, __VA_ARGS__)
