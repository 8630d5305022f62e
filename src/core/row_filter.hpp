// SPDX-License-Identifier: MIT
#pragma once
// A filtered subscription's conditions: `posts[forum_id=7,author.id="ana"]`
// (docs/protocol.md, "Filtered subscriptions"). Pure: parsed once, evaluated
// on a notification's `data` and `old` objects.
//
//   entry     = collection "[" condition *( "," condition ) "]"
//   condition = path "=" value
//   path      = part *3( "." part )          part = [A-Za-z0-9_-]{1,64}
//   value     = a JSON number, a JSON string, true, false or null
//
// Equality is JSON equality: numbers by value (7 equals 7.0), no coercion
// between types (7 is not "7"). The canonical form sorts the conditions by
// path and writes each value in one spelling (json_number.hpp for numbers,
// strings with the minimal JSON escapes), so that equal filters compare
// equal as text, and a value compares with a row's value as text.

#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace notifier::core {

struct row_side;
struct notification_rows;

struct filter_condition {
    std::vector<std::string> path;  ///< 1 to 4 names, outermost first
    std::string field;              ///< the path as written, parts joined by '.'
    std::string value;              ///< canonical JSON (json_number.hpp): equal values, equal text
};

class row_filter {
public:
    /// `conditions` is the text between the brackets. An error is a
    /// message for the client (quoting at most a short part of the input).
    static std::variant<row_filter, std::string> parse(std::string_view conditions);

    /// "field=value,…" sorted by field, values canonical.
    const std::string& canonical() const noexcept { return canonical_; }
    const std::vector<filter_condition>& conditions() const noexcept { return conditions_; }

    /// True unless a condition is false on `row`: a field that `row` does
    /// not have (or that is not reachable through objects) counts as true.
    bool holds_on(const row_side& row) const noexcept;

    /// The over-delivery rule: holds on `data` or on `old`, whichever the
    /// notification carries; a notification with neither matches. A side
    /// that is not an object has none of the fields.
    bool matches(const notification_rows& rows) const noexcept;

private:
    std::vector<filter_condition> conditions_;
    std::string canonical_;
};

}  // namespace notifier::core
