// SPDX-License-Identifier: MIT
// The two answers of a parser that returns std::variant<value, error>, for
// tests: each fails the test, naming the input, when the other one came.
#pragma once

#include <gtest/gtest.h>

#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace notifier::test {

/// The accepted value; a default one (and a failure quoting the error's
/// code and message) when the input was refused.
template <class T, class Variant>
T expect_accepted(Variant r, std::string_view input) {
    if (auto* v = std::get_if<T>(&r)) return std::move(*v);
    std::visit(
        [&](const auto& e) {
            if constexpr (!std::is_same_v<std::decay_t<decltype(e)>, T>)
                ADD_FAILURE() << "refused " << input << ": " << e.code << " " << e.message;
        },
        r);
    return {};
}

/// The error; a default one (and a failure) when the input was accepted.
template <class E, class Variant>
E expect_refused(Variant r, std::string_view input) {
    if (auto* e = std::get_if<E>(&r)) return std::move(*e);
    ADD_FAILURE() << "accepted " << input;
    return {};
}

}  // namespace notifier::test
