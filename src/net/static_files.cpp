// SPDX-License-Identifier: MIT
#include "net/static_files.hpp"

#include <string>

namespace notifier::net {

namespace fs = std::filesystem;

std::optional<fs::path> resolve_static(const fs::path& root, std::string_view decoded_path) {
    if (decoded_path.empty() || decoded_path.front() != '/') return std::nullopt;
    if (decoded_path.find('\0') != std::string_view::npos) return std::nullopt;
    // Reject any ".." segment outright rather than trusting normalisation.
    fs::path rel;
    std::size_t i = 1;
    while (i <= decoded_path.size()) {
        const auto j = decoded_path.find('/', i);
        const auto seg = decoded_path.substr(i, j == std::string_view::npos ? std::string_view::npos : j - i);
        if (seg == "..") return std::nullopt;
        if (!seg.empty() && seg != ".") rel /= std::string(seg);
        if (j == std::string_view::npos) break;
        i = j + 1;
    }
    std::error_code ec;
    const fs::path base = fs::canonical(root, ec);
    if (ec) return std::nullopt;
    fs::path p = base / rel;
    if (fs::is_directory(p, ec)) p /= "index.html";
    const fs::path real = fs::canonical(p, ec);
    if (ec || !fs::is_regular_file(real, ec)) return std::nullopt;
    // Symlinks may point anywhere: the resolved file must still be under root.
    const auto rs = real.native();
    const auto bs = base.native();
    if (rs.compare(0, bs.size(), bs) != 0 || (rs.size() > bs.size() && rs[bs.size()] != '/')) return std::nullopt;
    return real;
}

std::string_view mime_type(const fs::path& p) {
    const auto ext = p.extension().string();
    if (ext == ".html" || ext == ".htm") return "text/html; charset=utf-8";
    if (ext == ".js" || ext == ".mjs") return "text/javascript; charset=utf-8";
    if (ext == ".css") return "text/css; charset=utf-8";
    if (ext == ".json") return "application/json";
    if (ext == ".map") return "application/json";
    if (ext == ".svg") return "image/svg+xml";
    if (ext == ".png") return "image/png";
    if (ext == ".jpg" || ext == ".jpeg") return "image/jpeg";
    if (ext == ".ico") return "image/x-icon";
    if (ext == ".txt") return "text/plain; charset=utf-8";
    if (ext == ".wasm") return "application/wasm";
    return "application/octet-stream";
}

}  // namespace notifier::net
