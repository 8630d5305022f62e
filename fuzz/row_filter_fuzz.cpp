// SPDX-License-Identifier: MIT
// Filtered subscription entries: any input is accepted or refused with a
// message, never a crash; an accepted entry's canonical form parses to
// itself; evaluating it on a few rows is safe.

#include "core/row_filter.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view entry(reinterpret_cast<const char*>(data), size);
    auto r = notifier::core::parse_filtered_entry(entry);
    auto* e = std::get_if<notifier::core::filtered_entry>(&r);
    if (!e) {
        if (std::get<std::string>(r).empty()) std::abort();  // a refusal always says why
        return 0;
    }
    if (!e->filter) return 0;
    auto again = notifier::core::parse_filtered_entry(e->canonical);
    auto* e2 = std::get_if<notifier::core::filtered_entry>(&again);
    if (!e2 || e2->canonical != e->canonical) std::abort();
    static const boost::json::value rows[] = {
        boost::json::parse(R"({"forum_id":7,"author":{"id":3,"name":"a"},"pinned":true,"s":"x","n":null})"),
        boost::json::parse(R"({"forum_id":7.0,"author":"nobody"})"),
        boost::json::parse(R"([1,2])"),
    };
    for (const auto& row : rows) (void)e->filter->matches(&row, &rows[0]);
    return 0;
}
