// SPDX-License-Identifier: MIT
#pragma once
// The publisher's own bytes of each member of a JSON object or element of a
// JSON array, so that a value can be passed on exactly as it was written
// (numbers, escapes and key order untouched), not parsed and serialized
// again. Works on text a JSON parser has already accepted; pure.

#include <string_view>
#include <vector>

namespace notifier::core {

/// One member of an object: the key as written (with its quotes and any
/// escapes) and the value's text, without the whitespace around it.
struct json_member_span {
    std::string_view key;
    std::string_view value;
};

/// `text` without the JSON whitespace before and after it.
std::string_view trim_json_whitespace(std::string_view text) noexcept;

/// The members of the object `text` (valid JSON, whitespace around it
/// allowed), in the order written, duplicates included.
std::vector<json_member_span> json_object_members(std::string_view text);

/// The elements of the array `text` (valid JSON), in order.
std::vector<std::string_view> json_array_elements(std::string_view text);

}  // namespace notifier::core
