// SPDX-License-Identifier: MIT
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>

namespace loadgen {

// A parsed and resolved ws://, wss://, http:// or https:// URL. Resolution
// happens once up front so connecting thousands of sockets never touches the
// resolver.
struct url {
    std::string scheme;       // "ws", "wss", "http" or "https"
    bool tls = false;         // wss:// or https://
    std::string host;         // without brackets; also the TLS server name
    std::uint16_t port = 0;
    std::string target;       // path and query, at least "/"
    std::string host_header;  // value for the Host header
    sockaddr_storage addr{};
    socklen_t addr_len = 0;

    bool is_loopback_v4() const noexcept;
};

// plain_scheme is "ws" or "http"; its TLS form ("wss", "https") is accepted
// too and sets tls (default port 443 instead of 80). Returns nullopt and
// sets err for a malformed URL, another scheme, or a host that does not
// resolve.
std::optional<url> parse_url(const std::string& text, const char* plain_scheme, std::string& err);

// The URL of a Server-Sent Events stream (--protocol sse): an http(s):// URL
// as given, or a WebSocket one as http(s):// with a path ending in /ws
// turned into /sse and the query kept (ws://h:p/ws?collections=x ->
// http://h:p/sse?collections=x, wss:// -> https://).
std::optional<url> parse_stream_url(const std::string& text, std::string& err);

}  // namespace loadgen
