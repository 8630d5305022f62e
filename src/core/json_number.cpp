// SPDX-License-Identifier: MIT
#include "core/json_number.hpp"

#include <charconv>
#include <cmath>
#include <cstdlib>

namespace notifier::core {

std::string canonical_number(std::int64_t v) { return std::to_string(v); }
std::string canonical_number(std::uint64_t v) { return std::to_string(v); }

std::string canonical_number(double d) {
    // Integral values in the range of int64 and uint64: exact digits, the
    // same text an integer of that value has.
    if (std::trunc(d) == d) {
        if (d >= -9223372036854775808.0 && d < 0) return std::to_string(static_cast<std::int64_t>(d));
        if (d >= 0 && d < 18446744073709551616.0) return std::to_string(static_cast<std::uint64_t>(d));
    }
    // ECMAScript Number::toString from the shortest round-trip digits.
    char buf[40];
    const auto r = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
    std::string_view sci(buf, static_cast<std::size_t>(r.ptr - buf));
    std::string out;
    if (sci.front() == '-') {
        out += '-';
        sci.remove_prefix(1);
    }
    const auto e = sci.find('e');
    std::string digits;
    for (char c : sci.substr(0, e))
        if (c != '.') digits += c;
    const int k = static_cast<int>(digits.size());
    const int n = std::atoi(std::string(sci.substr(e + 1)).c_str()) + 1;  // value = 0.digits × 10^n
    if (k <= n && n <= 21) {
        out += digits;
        out.append(static_cast<std::size_t>(n - k), '0');
    } else if (0 < n && n <= 21) {
        out += digits.substr(0, static_cast<std::size_t>(n));
        out += '.';
        out += digits.substr(static_cast<std::size_t>(n));
    } else if (-6 < n && n <= 0) {
        out += "0.";
        out.append(static_cast<std::size_t>(-n), '0');
        out += digits;
    } else {
        out += digits[0];
        if (k > 1) {
            out += '.';
            out += digits.substr(1);
        }
        out += 'e';
        out += n - 1 >= 0 ? '+' : '-';
        out += std::to_string(std::abs(n - 1));
    }
    return out;
}

std::optional<std::string> canonical_double_text(std::string_view text) {
    double d = 0;
    const auto r = std::from_chars(text.data(), text.data() + text.size(), d);
    if (r.ec != std::errc{} || r.ptr != text.data() + text.size() || !std::isfinite(d)) return std::nullopt;
    return canonical_number(d);
}

}  // namespace notifier::core
