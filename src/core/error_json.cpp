// SPDX-License-Identifier: MIT
#include "core/error_json.hpp"

#include "core/json_escape.hpp"

namespace notifier::core {

void append_error_fields(std::string& out, std::string_view code_key, std::string_view code,
                         std::string_view message) {
    out += '"';
    out += code_key;
    out += "\":";
    append_json_string(out, code);
    out += ",\"message\":";
    append_json_string(out, message);
}

std::string error_body(std::string_view code, std::string_view message) {
    std::string s = "{";
    append_error_fields(s, "error", code, message);
    s += "}";
    return s;
}

}  // namespace notifier::core
