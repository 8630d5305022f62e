// SPDX-License-Identifier: MIT
#pragma once
// The optional configuration file (--config FILE or NOTIFIER_CONFIG), TOML
// read with toml++. Keys are the long option names (`max-queue-bytes = 1048576`),
// at the top level; repeatable options take arrays. docs/configuration.md.

#include <string>

namespace notifierd {

class option_set;

/// Reads `path` and applies every key to the option of that name through
/// `opts`, which leaves options a flag or a variable set alone. Throws
/// config_error for an unreadable file, a TOML syntax error (FILE:LINE:COLUMN),
/// an unknown key, a value of the wrong type, or one the option's own checks
/// refuse (FILE:LINE and the option's name).
void apply_toml_file(option_set& opts, const std::string& path);

}  // namespace notifierd
