// SPDX-License-Identifier: MIT
// `--redis redis://host[:port][/prefix]` (docs/scaling.md, "Running the nodes").
#include <notifier/broker/redis_broker.hpp>

#include <cctype>
#include <charconv>
#include <stdexcept>

namespace notifier {

redis_options parse_redis_url(std::string_view url) {
    constexpr std::string_view scheme = "redis://";
    if (url.substr(0, scheme.size()) != scheme) throw std::invalid_argument("expected redis://host[:port][/prefix]");
    auto rest = url.substr(scheme.size());
    redis_options o;
    const auto slash = rest.find('/');
    auto hostport = rest.substr(0, slash);
    if (slash != std::string_view::npos && slash + 1 < rest.size()) o.prefix = rest.substr(slash + 1);
    const auto colon = hostport.rfind(':');
    if (colon != std::string_view::npos) {
        const auto p = hostport.substr(colon + 1);
        int port = 0;
        auto r = std::from_chars(p.data(), p.data() + p.size(), port);
        if (p.empty() || r.ec != std::errc{} || r.ptr != p.data() + p.size() || port <= 0 || port > 65535)
            throw std::invalid_argument("invalid port in redis URL");
        o.port = port;
        hostport = hostport.substr(0, colon);
    }
    if (!hostport.empty()) o.host = hostport;
    for (char c : o.prefix)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == ':' || c == '.'))
            throw std::invalid_argument("redis key prefix may hold [A-Za-z0-9_.:-] only");
    return o;
}

}  // namespace notifier
