// SPDX-License-Identifier: MIT
#pragma once
// Resolving a request path inside the static directory, safely.

#include <filesystem>
#include <optional>
#include <string_view>

namespace notifier::net {

/// The file for a decoded request path, or nullopt if it is missing or would
/// leave `root` ("..", symlinks pointing outside). Directories map to index.html.
std::optional<std::filesystem::path> resolve_static(const std::filesystem::path& root,
                                                    std::string_view decoded_path);

/// Content-Type by file extension.
std::string_view mime_type(const std::filesystem::path& p);

/// The page served at `/` when no static directory is configured.
std::string_view builtin_index_html();

}  // namespace notifier::net
