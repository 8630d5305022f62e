// SPDX-License-Identifier: MIT
#pragma once
// One spelling per JSON number value, so that numbers equal by value compare
// equal as text: what filters index and compare (docs/protocol.md,
// "Canonical form").
//
// An integral value from -2^63 to 2^64 (exclusive) is written as exact
// digits, whether it was read as an integer or as a double (7.0 and 7e0 are
// "7"; -0 is "0"); any other number as ECMAScript's Number-to-String writes
// the double (shortest round trip: 0.5, 1.5e-7, 1e+21).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace notifier::core {

std::string canonical_number(std::int64_t v);
std::string canonical_number(std::uint64_t v);
std::string canonical_number(double v);

/// Reads a JSON number's text as a correctly rounded double (Boost.JSON may
/// be an ulp off for long numbers, std::from_chars is not) and spells it;
/// nullopt if the text is not a finite number.
std::optional<std::string> canonical_double_text(std::string_view text);

}  // namespace notifier::core
