// SPDX-License-Identifier: MIT
#pragma once
// The paths some filters look at (`forum_id`, `author.id`), counted as
// filters come and go: reading a notification's rows for them keeps only
// those values, and looks into an object only when a path leads below it.
// Pure.

#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <string_view>

namespace notifier::core {

class row_paths {
public:
    void add(std::string_view path);
    void remove(std::string_view path);
    bool empty() const noexcept { return counts_.empty(); }

    /// A filter looks at this path.
    bool wants(std::string_view path) const;
    /// A filter looks at a path below this one (`author` for `author.id`).
    bool leads_below(std::string_view path) const;
    /// Every path of `other` is one of these.
    bool covers(const row_paths& other) const;

private:
    std::map<std::string, std::size_t, std::less<>> counts_;
};

}  // namespace notifier::core
