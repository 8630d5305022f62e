// SPDX-License-Identifier: MIT
#pragma once
// Application routes served by the hub's HTTP server next to /ws and
// /publish: how an app (e.g. a REST API) shares one port with the hub.

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace notifier {

struct http_request {
    std::string method;   ///< "GET", "POST", …
    std::string path;     ///< percent-decoded, e.g. "/api/forums/7"
    std::string query;    ///< still encoded, without '?'
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;

    /// The first header named `name` (case-insensitive), or "".
    std::string_view header(std::string_view name) const noexcept;
};

struct http_response {
    unsigned status = 200;
    std::string content_type = "application/json";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
};

/// Answers one request; callable once, from any thread.
using http_responder = std::function<void(http_response)>;

/// Called for every request other than /ws, /publish and /healthz, before
/// static files, on the loop of the shard that holds the connection: with
/// options::threads above 1, from several threads at once, so the handler
/// must be thread-safe. Returns false to decline (the
/// request then goes to the static files). When it returns true it must call
/// `respond` exactly once, now or later from any thread: slow work (a
/// database query) belongs on another thread, since the loop serves
/// every client of its shard. A responder must be called or dropped before the hub is
/// destroyed: stop such worker threads first. Request bodies are limited by
/// options::max_publish_bytes (413 above it).
using http_handler = std::function<bool(const http_request&, http_responder respond)>;

}  // namespace notifier
