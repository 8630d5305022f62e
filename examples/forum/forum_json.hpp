// SPDX-License-Identifier: MIT
#pragma once
// The API's JSON: rows to JSON, and request bodies to validated input with a
// clear error for anything else.

#include "forum_store.hpp"

#include <boost/json/value.hpp>

#include <string>
#include <string_view>
#include <variant>

namespace forum {

/// A refused input: HTTP status, error code and a message for people.
struct api_error {
    unsigned status = 400;
    std::string code;
    std::string message;
};

boost::json::value to_json(const forum_row& f);
boost::json::value to_json(const post_row& p);

/// `{"error":code,"message":message}`, the error body of every endpoint.
std::string error_body(std::string_view code, std::string_view message);

/// Limits of the demo's fields (in bytes).
inline constexpr std::size_t max_name_bytes = 100;
inline constexpr std::size_t max_title_bytes = 200;
inline constexpr std::size_t max_body_bytes = 20'000;

/// `{"name": "…"}`; `id` may be present only when it equals `path_id` (a PUT
/// of an object as it was read). The name is trimmed and must not be empty.
std::variant<forum_row, api_error> parse_forum(std::string_view body, std::int64_t path_id = 0);
/// `{"forum_id": N, "title": "…", "body": "…"}`; body is optional ("").
std::variant<post_row, api_error> parse_post(std::string_view body, std::int64_t path_id = 0);

/// A positive decimal id ("7"), else 0.
std::int64_t parse_id(std::string_view s);

}  // namespace forum
