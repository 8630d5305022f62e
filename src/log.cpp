// SPDX-License-Identifier: MIT
#include "log.hpp"

#include "core/json_escape.hpp"
#include "core/utf8.hpp"

#include <spdlog/logger.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <fmt/format.h>

#include <mutex>

namespace notifier {

namespace {

// Hands each formatted line to options::log_sink.
class function_sink final : public spdlog::sinks::base_sink<std::mutex> {
public:
    explicit function_sink(std::function<void(std::string_view)> f) : f_(std::move(f)) {}

private:
    void sink_it_(const spdlog::details::log_msg& msg) override {
        spdlog::memory_buf_t buf;
        formatter_->format(msg, buf);
        std::string_view line(buf.data(), buf.size());
        while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
        f_(line);
    }
    void flush_() override {}

    std::function<void(std::string_view)> f_;
};

spdlog::level::level_enum to_spdlog(log_level l) {
    switch (l) {
        case log_level::trace: return spdlog::level::trace;
        case log_level::debug: return spdlog::level::debug;
        case log_level::info: return spdlog::level::info;
        case log_level::warn: return spdlog::level::warn;
        case log_level::error: return spdlog::level::err;
        case log_level::off: break;
    }
    return spdlog::level::off;
}

bool bare(std::string_view v) {
    if (v.empty()) return false;
    for (unsigned char c : v)
        if (c <= ' ' || c >= 0x7f || c == '"' || c == '=' || c == '\\') return false;
    return true;
}

}  // namespace

void append_logfmt_value(std::string& out, std::string_view v) {
    if (bare(v)) {
        out += v;
        return;
    }
    const bool utf8 = core::is_valid_utf8(v);
    out.push_back('"');
    for (unsigned char c : v) {
        if (core::append_short_escape(out, c)) continue;
        if (c < 0x20 || c == 0x7f) fmt::format_to(std::back_inserter(out), "\\u{:04x}", c);
        else if (c >= 0x80 && !utf8) fmt::format_to(std::back_inserter(out), "\\x{:02x}", c);
        else out.push_back(static_cast<char>(c));
    }
    out.push_back('"');
}

void log_field::append_to(std::string& out) const {
    out.push_back(' ');
    out += key_;
    out.push_back('=');
    switch (kind_) {
        case kind::text: append_logfmt_value(out, text_); break;
        case kind::boolean: out += u64_ ? "true" : "false"; break;
        case kind::i64: fmt::format_to(std::back_inserter(out), "{}", i64_); break;
        case kind::u64: fmt::format_to(std::back_inserter(out), "{}", u64_); break;
        case kind::f64: fmt::format_to(std::back_inserter(out), "{}", f64_); break;
    }
}

logger::logger(log_level min, std::function<void(std::string_view)> sink) : min_(min) {
    spdlog::sink_ptr s;
    if (sink) s = std::make_shared<function_sink>(std::move(sink));
    else s = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    // Not registered with spdlog's global registry: every hub owns its logger.
    out_ = std::make_shared<spdlog::logger>("notifier", std::move(s));
    // UTC with milliseconds, then our own `level=… event=…`.
    out_->set_formatter(
        std::make_unique<spdlog::pattern_formatter>("%Y-%m-%dT%H:%M:%S.%eZ %v", spdlog::pattern_time_type::utc));
    out_->set_level(to_spdlog(min));
    out_->flush_on(spdlog::level::trace);
}

logger::~logger() = default;

void logger::write(log_level l, std::string_view event, std::initializer_list<log_field> fields) const noexcept {
    if (!enabled(l)) return;
    try {
        std::string line = "level=";
        line += log_level_name(l);
        line += " event=";
        append_logfmt_value(line, event);
        for (const auto& f : fields) f.append_to(line);
        out_->log(to_spdlog(l), spdlog::string_view_t(line.data(), line.size()));
    } catch (...) {
        // Logging never takes the server down (e.g. a throwing log_sink).
    }
}

}  // namespace notifier
