// SPDX-License-Identifier: MIT
#pragma once
// The `data` and `old` objects of a notification as filters see them: each
// scalar reachable through objects, at most 4 names deep, under its dotted
// path, with its value in canonical JSON (json_number.hpp). Read from the
// notification's JSON in one pass (no document is built), numbers read
// exactly as filter values are, so a value that equals a filter's is found
// equal. Pure: no sockets.
//
// Names that no filter can address (other than [A-Za-z0-9_-]{1,64}) are
// skipped with what they hold. An array, or an object 4 names deep, is a
// value equal to no scalar. A name repeated in one object: the last one
// counts, as in JavaScript's JSON.parse. `"data_omitted":true` is a data
// that is not an object: unknown, so every filter holds on it.

#include "core/row_paths.hpp"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace notifier::core {

/// One of `data` and `old`.
struct row_side {
    bool present = false;  ///< the notification carries it
    bool object = false;   ///< and it is a JSON object
    /// (path, canonical value), sorted by path, unique.
    std::vector<std::pair<std::string, std::string>> fields;

    /// The canonical value at `path`, or nullptr when the row has none.
    const std::string* find(std::string_view path) const noexcept;
};

struct notification_rows {
    row_side data;
    row_side old;

    /// Reads a notification's JSON object (`{"seq":…,"collection":…,
    /// "data":…,"old":…}`). Text that is not such an object gives two absent
    /// sides (it never comes from a validated notification). With `only`,
    /// just the values at its paths are kept (a filter on other paths
    /// would find them absent).
    static notification_rows parse(std::string_view notification_json, const row_paths* only = nullptr);
};

/// A notification's rows, read on first use: most notifications reach no
/// filter, and those that do are read once however many filters look.
class lazy_rows {
public:
    explicit lazy_rows(std::string_view notification_json) noexcept : json_(notification_json) {}
    /// The rows with at least the values at `only`'s paths (null: all).
    /// Read once; read again in full only if a later caller wants a path
    /// the first read left out.
    const notification_rows& get(const row_paths* only = nullptr) {
        if (!read_ || (read_for_ && read_for_ != only && (!only || !read_for_->covers(*only)))) {
            rows_ = notification_rows::parse(json_, read_ ? nullptr : only);
            read_for_ = read_ ? nullptr : only;
            read_ = true;
        }
        return rows_;
    }

private:
    std::string_view json_;
    bool read_ = false;
    const row_paths* read_for_ = nullptr;  // what the read kept; null: everything
    notification_rows rows_;
};

/// The value of a non-scalar (array, or an object too deep to look into):
/// no filter value is spelled this way.
inline constexpr std::string_view opaque_value = "\x01";

}  // namespace notifier::core
