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
// path and writes each value in one spelling (integers without fraction or
// exponent, other numbers in their shortest round-trip form, strings with
// the minimal JSON escapes), so that equal filters compare equal as text.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace boost::json {
class value;
class object;
}  // namespace boost::json

namespace notifier::core {

/// A JSON scalar as a filter value.
struct filter_value {
    enum class kind { null, boolean, number, string };
    kind type = kind::null;
    bool boolean = false;
    long double number = 0;  ///< compared by value: exact for every int64, uint64 and double
    std::string text;   ///< the string's decoded text
};

struct filter_condition {
    std::vector<std::string> path;  ///< 1 to 4 names, outermost first
    std::string field;              ///< the path as written, parts joined by '.'
    filter_value value;
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
    bool holds_on(const boost::json::object& row) const;

    /// The over-delivery rule: holds on `data` or on `old`, whichever the
    /// notification carries (nullptr: absent); a notification with neither
    /// matches. A value that is not an object has none of the fields.
    bool matches(const boost::json::value* data, const boost::json::value* old) const;

private:
    std::vector<filter_condition> conditions_;
    std::string canonical_;
};

/// An entry split into its collection and, when it has brackets, its filter.
struct filtered_entry {
    std::string_view collection;
    std::optional<row_filter> filter;
    std::string canonical;  ///< "collection" or "collection[canonical conditions]"
};

/// Parses "collection[…]"; an entry without '[' is returned unfiltered
/// (its collection is not checked here: topic.hpp does that).
std::variant<filtered_entry, std::string> parse_filtered_entry(std::string_view entry);

}  // namespace notifier::core
