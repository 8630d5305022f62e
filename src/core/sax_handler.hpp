// SPDX-License-Identifier: MIT
#pragma once
// What every Boost.JSON SAX handler here shares: no size limits of its own
// (the callers bound their input) and nothing to do at the document's edges
// or for comments (which the parse options refuse anyway).

#include <boost/json/string_view.hpp>
#include <boost/system/error_code.hpp>

#include <cstddef>

namespace notifier::core {

struct sax_handler {
    static constexpr std::size_t max_object_size = std::size_t(-1);
    static constexpr std::size_t max_array_size = std::size_t(-1);
    static constexpr std::size_t max_key_size = std::size_t(-1);
    static constexpr std::size_t max_string_size = std::size_t(-1);
    using ec_t = boost::system::error_code;
    using sv = boost::json::string_view;

    bool on_document_begin(ec_t&) { return true; }
    bool on_document_end(ec_t&) { return true; }
    bool on_comment_part(sv, ec_t&) { return true; }
    bool on_comment(sv, ec_t&) { return true; }
};

}  // namespace notifier::core
