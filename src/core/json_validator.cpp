// SPDX-License-Identifier: MIT
// is_valid_json(): a SAX pass with a handler that builds nothing, so
// validating a small data object on notify()'s caller thread costs tens of
// nanoseconds and no allocation.

#include <notifier/notification.hpp>

#include "core/sax_handler.hpp"
#include "core/utf8.hpp"

#include <boost/json/basic_parser_impl.hpp>

namespace notifier {

namespace {

struct null_handler : core::sax_handler {
    bool on_array_begin(ec_t&) { return true; }
    bool on_array_end(std::size_t, ec_t&) { return true; }
    bool on_object_begin(ec_t&) { return true; }
    bool on_object_end(std::size_t, ec_t&) { return true; }
    bool on_string_part(sv, std::size_t, ec_t&) { return true; }
    bool on_string(sv, std::size_t, ec_t&) { return true; }
    bool on_key_part(sv, std::size_t, ec_t&) { return true; }
    bool on_key(sv, std::size_t, ec_t&) { return true; }
    bool on_number_part(sv, ec_t&) { return true; }
    bool on_int64(std::int64_t, sv, ec_t&) { return true; }
    bool on_uint64(std::uint64_t, sv, ec_t&) { return true; }
    bool on_double(double, sv, ec_t&) { return true; }
    bool on_bool(bool, ec_t&) { return true; }
    bool on_null(ec_t&) { return true; }
};

}  // namespace

bool is_valid_json(std::string_view s) noexcept {
    // UTF-8 is checked below by a validator with an ASCII fast path, which
    // is several times cheaper than the parser's own check on typical data.
    if (!core::is_valid_utf8(s)) return false;
    boost::json::parse_options opts;
    opts.max_depth = 64;
    opts.allow_invalid_utf8 = true;
    boost::json::basic_parser<null_handler> p(opts);
    boost::system::error_code ec;
    const auto n = p.write_some(false, s.data(), s.size(), ec);
    return !ec && n == s.size();
}

}  // namespace notifier
