// SPDX-License-Identifier: MIT
#include "core/sql_quote.hpp"

namespace notifier::core {

namespace {

std::string quoted(std::string_view s, char quote) {
    std::string out(1, quote);
    for (char c : s) {
        if (c == quote) out.push_back(quote);
        out.push_back(c);
    }
    out.push_back(quote);
    return out;
}

}  // namespace

std::string quote_identifier(std::string_view name) { return quoted(name, '"'); }
std::string quote_literal(std::string_view s) { return quoted(s, '\''); }

}  // namespace notifier::core
