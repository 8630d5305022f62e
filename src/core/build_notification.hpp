// SPDX-License-Identifier: MIT
#pragma once
// The one path from notify()'s arguments to a valid notification, shared by
// notifier and transaction.

#include <notifier/notification.hpp>

#include <charconv>
#include <cstdint>
#include <optional>
#include <string_view>
#include <system_error>

namespace notifier {

/// Checks notify()'s arguments; the first violation or an empty error_code.
std::error_code validate_fields(std::string_view collection, std::string_view action,
                                std::optional<std::string_view> id, std::optional<std::string_view> data_json) noexcept;

/// Copies the views into a notification, unchecked (callers validated them).
notification make_notification(std::string_view collection, std::string_view action,
                               std::optional<std::string_view> id, std::optional<std::string_view> data_json);

/// Validates the views first (nothing is allocated for invalid input), then
/// builds `out` once.
std::error_code build_notification(std::string_view collection, std::string_view action,
                                   std::optional<std::string_view> id, std::optional<std::string_view> data_json,
                                   notification& out);

/// An integer id in its decimal text form, without allocating.
class integer_id {
public:
    explicit integer_id(std::int64_t v) noexcept {
        const auto r = std::to_chars(buf_, buf_ + sizeof buf_, v);
        size_ = static_cast<std::size_t>(r.ptr - buf_);
    }
    std::string_view view() const noexcept { return {buf_, size_}; }

private:
    char buf_[24];
    std::size_t size_;
};

}  // namespace notifier
