// SPDX-License-Identifier: MIT
#pragma once
// A notification after the broker numbered it, serialized once and shared.

#include <notifier/notification.hpp>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

namespace notifier {

/// Immutable once made: every recipient (and the history) shares one instance,
/// so the JSON is encoded exactly once however many clients receive it.
struct publication {
    std::uint64_t seq = 0;
    std::string collection;
    std::string id;  ///< empty when the notification has no id
    /// The complete server-to-client WebSocket text frame (RFC 6455 section 5.2):
    /// server frames are unmasked, so the bytes are identical for every recipient.
    std::string frame;
    std::size_t header_size = 0;  ///< bytes of frame before the JSON

    /// The notification's JSON text, e.g. `{"seq":1,"collection":"forums",…}`.
    std::string_view json() const noexcept {
        return std::string_view(frame).substr(header_size);
    }

    /// The notification as a Server-Sent Event, after `id: <epoch>`:
    /// `:<seq>\ndata: <json>\n\n`. Built on first use, by whichever thread
    /// needs it first, so only when some SSE client receives it, and once.
    std::string_view sse_tail() const;

    mutable std::once_flag sse_once_;  // internal: guards sse_tail_
    mutable std::string sse_tail_;
};

using publication_ptr = std::shared_ptr<const publication>;

/// Serializes `n` with `seq` into a shared publication. `n` must be valid.
publication_ptr make_publication(std::uint64_t seq, const notification& n);

/// The JSON of `n` without its opening `{"seq":N,`: what a broker that
/// assigns seq elsewhere (e.g. in Redis) completes as `{"seq":N,` + body.
std::string notification_json_body(const notification& n);

/// A publication from JSON already complete with its seq (as stored by a
/// broker); `collection` and `id` are what subscriptions match on.
publication_ptr make_publication_from_json(std::uint64_t seq, std::string_view collection, std::string_view id,
                                           std::string_view json);

}  // namespace notifier
