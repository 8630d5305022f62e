// SPDX-License-Identifier: MIT
#pragma once
// Quoting names and values into SQL text, the standard way both SQLite and
// PostgreSQL read: for the DDL the change sources generate, where a
// statement cannot take parameters.

#include <string>
#include <string_view>

namespace notifier::core {

/// `name` as an SQL identifier: "name" with inner quotes doubled.
std::string quote_identifier(std::string_view name);
/// `s` as an SQL string literal: 'text' with inner quotes doubled.
std::string quote_literal(std::string_view s);

}  // namespace notifier::core
