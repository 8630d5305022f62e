// SPDX-License-Identifier: MIT
#pragma once
// The notification value type and the rules its fields obey.

#include <optional>
#include <string>
#include <string_view>
#include <system_error>

namespace notifier {

/// One change: `{"collection":"forums","action":"create","id":"7","data":{…}}`.
/// `seq` is not part of it: the broker assigns it when publishing.
struct notification {
    std::string collection;
    std::string action;
    std::optional<std::string> id;    ///< absent when the change is not about one record
    std::optional<std::string> data;  ///< one serialized JSON value, absent when none
    /// The change had data too large to send (a change source's limit): sent
    /// as `"data_omitted":true` in place of `data`, so a client knows to
    /// re-fetch the record. Ignored when `data` is set.
    bool data_omitted = false;
    /// The record as it was before an update or a delete: one serialized
    /// JSON object, absent when not known. Sent as `"old"`, so that a
    /// client can tell a row that left what it shows (docs/protocol.md).
    std::optional<std::string> old;

    friend bool operator==(const notification&, const notification&) = default;
};

/// collection: [A-Za-z0-9_.:-]{1,128}
bool is_valid_collection(std::string_view s) noexcept;
/// action: [A-Za-z0-9_.:-]{1,64}
bool is_valid_action(std::string_view s) noexcept;
/// id: 1 to 256 bytes of valid UTF-8
bool is_valid_id(std::string_view s) noexcept;
/// data: exactly one JSON value (RFC 8259), surrounding whitespace allowed
bool is_valid_json(std::string_view s) noexcept;

/// old: one JSON object, surrounding whitespace allowed
bool is_valid_json_object(std::string_view s) noexcept;

/// Checks every field; returns the first violation or an empty error_code.
std::error_code validate(const notification& n) noexcept;

}  // namespace notifier
