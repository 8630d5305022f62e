// SPDX-License-Identifier: MIT
#include "core/topic.hpp"

#include "core/notification_rows.hpp"
#include "core/utf8.hpp"

#include <notifier/notification.hpp>

namespace notifier::core {

std::string topic::name() const {
    if (filter) return collection + "[" + filter->canonical() + "]";
    if (!id.empty()) return collection + "/" + id;
    return collection;
}

bool topic::matches(std::string_view c, std::string_view i, lazy_rows& rows) const {
    if (collection == "*") return true;
    if (collection != c) return false;
    if (!id.empty()) return id == i;
    return !filter || filter->matches(rows.get());
}

std::variant<topic, std::string> parse_entry(std::string_view entry) {
    const auto invalid = [&](std::string_view why) {
        return "invalid subscription \"" + std::string(quotable(entry, 240)) + "\": " + std::string(why);
    };
    static constexpr std::string_view expected =
        "expected \"*\", a collection [A-Za-z0-9_.:-]{1,128}, collection/id or collection[field=value,…]";
    if (entry == "*") return topic{"*", {}, {}};
    const auto split = entry.find_first_of("/[");
    const auto collection = entry.substr(0, split);
    if (!is_valid_collection(collection)) return invalid(expected);
    if (split == std::string_view::npos) return topic{std::string(collection), {}, {}};
    if (entry[split] == '/') {
        const auto id = entry.substr(split + 1);
        if (!is_valid_id(id)) return invalid("the id must be 1 to 256 bytes of UTF-8");
        return topic{std::string(collection), std::string(id), {}};
    }
    if (entry.back() != ']') return invalid("a filter ends with ']'");
    auto f = row_filter::parse(entry.substr(split + 1, entry.size() - split - 2));
    if (auto* err = std::get_if<std::string>(&f)) return invalid(*err);
    return topic{std::string(collection), {}, std::make_shared<const row_filter>(std::move(std::get<row_filter>(f)))};
}

std::optional<topic> parse_topic(std::string_view entry) {
    auto r = parse_entry(entry);
    if (auto* t = std::get_if<topic>(&r)) return std::move(*t);
    return std::nullopt;
}

}  // namespace notifier::core
