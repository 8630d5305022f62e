// SPDX-License-Identifier: MIT
#include <notifier/options.hpp>

#include <array>
#include <charconv>

namespace notifier {

bool parse_listen_address(std::string_view s, std::string& host, std::uint16_t& port) {
    const auto colon = s.rfind(':');
    if (colon == std::string_view::npos) return false;
    auto h = s.substr(0, colon);
    if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
    const auto p = s.substr(colon + 1);
    unsigned v = 0;
    const auto r = std::from_chars(p.data(), p.data() + p.size(), v);
    if (p.empty() || r.ec != std::errc{} || r.ptr != p.data() + p.size() || v > 65535) return false;
    host = h;
    port = static_cast<std::uint16_t>(v);
    return true;
}

namespace {
constexpr std::array<std::string_view, 6> level_names{"trace", "debug", "info", "warn", "error", "off"};
}

bool parse_log_level(std::string_view s, log_level& level) {
    for (std::size_t i = 0; i < level_names.size(); ++i) {
        if (s == level_names[i]) {
            level = static_cast<log_level>(i);
            return true;
        }
    }
    return false;
}

std::string_view log_level_name(log_level level) noexcept {
    const auto i = static_cast<std::size_t>(level);
    return i < level_names.size() ? level_names[i] : "unknown";
}

bool parse_tls_version(std::string_view s, tls_version& v) {
    if (s == "1.2") v = tls_version::v1_2;
    else if (s == "1.3") v = tls_version::v1_3;
    else return false;
    return true;
}

}  // namespace notifier
