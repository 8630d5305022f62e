// SPDX-License-Identifier: MIT
#include "url.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

#include <cstring>

namespace loadgen {

bool url::is_loopback_v4() const noexcept {
    if (addr.ss_family != AF_INET) return false;
    auto* in = reinterpret_cast<const sockaddr_in*>(&addr);
    return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
}

std::optional<url> parse_url(const std::string& text, const char* plain_scheme, std::string& err) {
    url u;
    auto sep = text.find("://");
    if (sep == std::string::npos) {
        err = "missing scheme in '" + text + "'";
        return std::nullopt;
    }
    u.scheme = text.substr(0, sep);
    const std::string plain = plain_scheme;
    u.tls = u.scheme == plain + "s";
    if (u.scheme != plain && !u.tls) {
        err = "expected a " + plain + ":// or " + plain + "s:// URL, got '" + text + "'";
        return std::nullopt;
    }
    std::string rest = text.substr(sep + 3);
    auto slash = rest.find_first_of("/?");
    std::string authority = rest.substr(0, slash);
    u.target = slash == std::string::npos ? "/" : rest.substr(slash);
    if (u.target[0] == '?') u.target.insert(0, "/");

    std::string port_text;
    if (!authority.empty() && authority[0] == '[') {
        auto close = authority.find(']');
        if (close == std::string::npos) {
            err = "unterminated IPv6 address in '" + text + "'";
            return std::nullopt;
        }
        u.host = authority.substr(1, close - 1);
        if (close + 1 < authority.size()) {
            if (authority[close + 1] != ':') {
                err = "bad authority in '" + text + "'";
                return std::nullopt;
            }
            port_text = authority.substr(close + 2);
        }
    } else {
        auto colon = authority.rfind(':');
        u.host = authority.substr(0, colon);
        if (colon != std::string::npos) port_text = authority.substr(colon + 1);
    }
    if (u.host.empty()) {
        err = "missing host in '" + text + "'";
        return std::nullopt;
    }
    unsigned long port = u.tls ? 443 : 80;
    if (!port_text.empty()) {
        char* end = nullptr;
        port = std::strtoul(port_text.c_str(), &end, 10);
        if (*end != '\0' || port == 0 || port > 65535) {
            err = "bad port in '" + text + "'";
            return std::nullopt;
        }
    }
    u.port = static_cast<std::uint16_t>(port);
    bool v6 = u.host.find(':') != std::string::npos;
    u.host_header = (v6 ? "[" + u.host + "]" : u.host) + ":" + std::to_string(u.port);

    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    int rc = getaddrinfo(u.host.c_str(), std::to_string(u.port).c_str(), &hints, &res);
    if (rc != 0 || res == nullptr) {
        err = "cannot resolve '" + u.host + "': " + gai_strerror(rc);
        return std::nullopt;
    }
    std::memcpy(&u.addr, res->ai_addr, res->ai_addrlen);
    u.addr_len = res->ai_addrlen;
    freeaddrinfo(res);
    return u;
}

std::optional<url> parse_stream_url(const std::string& text, std::string& err) {
    if (text.rfind("http://", 0) == 0 || text.rfind("https://", 0) == 0) return parse_url(text, "http", err);
    auto u = parse_url(text, "ws", err);
    if (!u) {
        if (text.rfind("ws://", 0) != 0 && text.rfind("wss://", 0) != 0)
            err = "expected an http(s):// or ws(s):// URL, got '" + text + "'";
        return std::nullopt;
    }
    u->scheme = u->tls ? "https" : "http";
    const std::size_t query = u->target.find('?');
    const std::size_t path_end = query == std::string::npos ? u->target.size() : query;
    if (path_end >= 3 && u->target.compare(path_end - 3, 3, "/ws") == 0) u->target.replace(path_end - 3, 3, "/sse");
    return u;
}

}  // namespace loadgen
