// SPDX-License-Identifier: MIT
#include <notifier/http_route.hpp>

#include <strings.h>

namespace notifier {

std::string_view http_request::header(std::string_view name) const noexcept {
    for (const auto& [k, v] : headers)
        if (k.size() == name.size() && ::strncasecmp(k.data(), name.data(), name.size()) == 0) return v;
    return {};
}

}  // namespace notifier
