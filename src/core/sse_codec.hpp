// SPDX-License-Identifier: MIT
#pragma once
// The text/event-stream side of the protocol (docs/protocol.md, "Server-Sent
// Events"): the events a stream carries besides notifications, and the
// Last-Event-ID a browser sends back. Pure.

#include "core/resume_request.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace notifier::core {

/// `event: welcome`, with `id: <epoch>:<seq>` when not resumed (a browser
/// that reconnects before any notification then resumes from there).
std::string encode_sse_welcome(std::string_view epoch, std::uint64_t seq, bool resumed);
/// `event: resync` with `id: <epoch>:<seq>`: the new cursor.
std::string encode_sse_resync(std::string_view epoch, std::uint64_t seq);
/// `event: close` with `{"code":…,"reason":…}`, and the refusal's
/// `"error"` and `"message"` when `error` is not empty.
std::string encode_sse_close(std::uint16_t code, std::string_view reason, std::string_view error = {},
                             std::string_view message = {});
/// A comment line: ignored by clients, keeps the stream alive for proxies.
inline constexpr std::string_view sse_ping = ": ping\n\n";

/// `<epoch>:<seq>` (the id of our events) as a resume position; nullopt
/// when it is not one.
std::optional<resume_request> parse_last_event_id(std::string_view value);

/// The chunk header of `size` bytes (RFC 9112 section 7.1): hex and CRLF.
std::string chunk_header(std::size_t size);

}  // namespace notifier::core
