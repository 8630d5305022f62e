// SPDX-License-Identifier: MIT
// Filtered subscription entries and the rows they look at. The input is an
// entry, optionally followed by a newline and a notification's JSON: any
// entry is accepted or refused with a message, never a crash; an accepted
// entry's canonical name parses to itself; any text is read as rows without
// a crash (its fields sorted and unique), and the filter evaluates on them.

#include "core/notification_rows.hpp"
#include "core/topic.hpp"

#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const auto nl = input.find('\n');
    const std::string_view entry = input.substr(0, nl);
    const std::string_view json = nl == std::string_view::npos ? std::string_view{} : input.substr(nl + 1);

    const auto rows = notifier::core::notification_rows::parse(
        json.empty() ? std::string_view(R"({"data":{"forum_id":7,"author":{"id":3}},"old":{"forum_id":8}})") : json);
    for (const auto* side : {&rows.data, &rows.old}) {
        if (!side->present && (side->object || !side->fields.empty())) std::abort();
        for (std::size_t i = 1; i < side->fields.size(); ++i)
            if (!(side->fields[i - 1].first < side->fields[i].first)) std::abort();
    }

    auto r = notifier::core::parse_entry(entry);
    auto* t = std::get_if<notifier::core::topic>(&r);
    if (!t) {
        if (std::get<std::string>(r).empty()) std::abort();  // a refusal always says why
        return 0;
    }
    const auto name = t->name();
    auto again = notifier::core::parse_entry(name);
    auto* t2 = std::get_if<notifier::core::topic>(&again);
    if (!t2 || t2->name() != name) std::abort();
    if (!t->filter) return 0;
    // Reading only the filter's paths decides as reading everything does.
    notifier::core::row_paths only;
    for (const auto& c : t->filter->conditions()) only.add(c.field);
    const auto some = notifier::core::notification_rows::parse(
        json.empty() ? std::string_view(R"({"data":{"forum_id":7,"author":{"id":3}},"old":{"forum_id":8}})") : json,
        &only);
    if (t->filter->matches(rows) != t->filter->matches(some)) std::abort();
    for (const auto& c : t->filter->conditions())
        for (const auto side : {&notifier::core::notification_rows::data, &notifier::core::notification_rows::old}) {
            const std::string* a = (rows.*side).find(c.field);
            const std::string* b = (some.*side).find(c.field);
            if ((a == nullptr) != (b == nullptr) || (a && *a != *b)) std::abort();
        }
    return 0;
}
