// SPDX-License-Identifier: MIT
#pragma once
// Incremental parser of client-to-server WebSocket frames (RFC 6455 section 5).
// Pure: no sockets, so it is unit-tested and fuzzed on its own.

#include <notifier/errors.hpp>

#include "core/ws_frame.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace notifier::core {

/// What the parser hands to its caller.
struct ws_event {
    enum class kind { text, ping, pong, close, error };
    kind type = kind::error;
    /// text: the whole (reassembled) message; ping/pong: payload; close: reason.
    std::string_view payload;
    /// close: the peer's status code (close_code::no_status_received when
    /// it sent none); error: the close code to answer with (protocol_error,
    /// unsupported_data, invalid_payload or message_too_big).
    std::uint16_t code = 0;
};

class ws_frame_parser {
public:
    explicit ws_frame_parser(std::size_t max_message_bytes) : max_message_(max_message_bytes) {}

    /// Consumes `data` (unmasked in place, hence mutable) and calls
    /// `on_event(const ws_event&) -> bool` for every complete message and
    /// control frame; a false return stops parsing. Views passed to the
    /// handler are valid only during the call. After an `error` or `close`
    /// event the parser consumes nothing more. Returns false once stopped.
    template <class Handler>
    bool feed(std::span<char> data, Handler&& on_event);

    bool stopped() const noexcept { return stopped_; }
    /// Bytes held between calls (partial frame or fragmented message).
    std::size_t buffered() const noexcept { return pending_.size() + message_.size(); }
    /// Releases buffers kept for partial input (idle connections hold none).
    void shrink() {
        if (pending_.empty()) std::string().swap(pending_);
        if (message_.empty() && !in_message_) std::string().swap(message_);
    }

private:
    enum class step { need_more, event, consumed, error };
    // Parses one frame at the start of [p, p+n); sets consumed bytes.
    step parse_one(char* p, std::size_t n, std::size_t& used, ws_event& ev);
    step fail(ws_event& ev, close_code why) {
        const auto code = static_cast<std::uint16_t>(why);
        ev = ws_event{ws_event::kind::error, {}, code};
        stopped_ = true;
        return step::error;
    }

    std::size_t max_message_;
    std::string pending_;  // bytes of an incomplete frame
    std::string message_;  // payload of a fragmented text message so far
    bool in_message_ = false;
    bool reassembled_ = false;  // message_ was handed out and must be cleared
    bool stopped_ = false;
};

template <class Handler>
bool ws_frame_parser::feed(std::span<char> data, Handler&& on_event) {
    if (stopped_) return false;
    char* p = data.data();
    std::size_t n = data.size();
    const bool from_pending = !pending_.empty();
    if (from_pending) {
        pending_.append(p, n);
        p = pending_.data();
        n = pending_.size();
    }
    std::size_t offset = 0;
    while (!stopped_) {
        std::size_t used = 0;
        ws_event ev;
        const step s = parse_one(p + offset, n - offset, used, ev);
        if (s == step::need_more) break;
        offset += used;
        if (s == step::consumed) continue;
        if (s == step::error) {
            on_event(ev);
            break;
        }
        if (ev.type == ws_event::kind::close) stopped_ = true;
        if (!on_event(ev)) {
            stopped_ = true;
            break;
        }
    }
    if (reassembled_) {
        message_.clear();
        reassembled_ = false;
    }
    if (stopped_) {
        pending_.clear();
        return false;
    }
    if (from_pending) {
        pending_.erase(0, offset);
    } else if (offset < n) {
        pending_.assign(p + offset, n - offset);
    }
    return true;
}

}  // namespace notifier::core
