// SPDX-License-Identifier: MIT
#include "forum_json.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <charconv>

namespace forum {

namespace json = boost::json;

namespace {

std::string_view trim(std::string_view s) {
    const auto ws = " \t\r\n";
    const auto b = s.find_first_not_of(ws);
    if (b == std::string_view::npos) return {};
    return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

api_error bad(std::string code, std::string message) { return {400, std::move(code), std::move(message)}; }

// The body as an object with only `allowed` keys (and `id` equal to path_id).
std::variant<json::object, api_error> object_body(std::string_view body, std::initializer_list<std::string_view> allowed,
                                                  std::int64_t path_id) {
    boost::system::error_code ec;
    auto v = json::parse(body, ec);
    if (ec) return bad("invalid_json", "the body is not valid JSON: " + ec.message());
    if (!v.is_object()) return bad("invalid_body", "the body must be a JSON object");
    auto& o = v.as_object();
    for (const auto& [k, val] : o) {
        if (k == "id") {
            if (path_id == 0) return bad("invalid_field", "\"id\" is assigned by the server");
            if (!val.is_int64() || val.as_int64() != path_id)
                return bad("invalid_field", "\"id\" does not match the id in the path");
            continue;
        }
        if (std::find(allowed.begin(), allowed.end(), std::string_view(k)) == allowed.end())
            return bad("unknown_field", "unknown field \"" + std::string(k) + "\"");
    }
    return std::move(o);
}

// A required (or optional, with a default) string field, trimmed.
std::variant<std::string, api_error> text_field(const json::object& o, std::string_view key, std::size_t max,
                                                bool required, bool allow_empty) {
    const auto* v = o.if_contains(key);
    if (!v) {
        if (required) return bad("invalid_field", "\"" + std::string(key) + "\" is required");
        return std::string();
    }
    if (!v->is_string()) return bad("invalid_field", "\"" + std::string(key) + "\" must be a string");
    const auto t = trim(v->as_string());
    if (t.empty() && !allow_empty) return bad("invalid_field", "\"" + std::string(key) + "\" must not be empty");
    if (t.size() > max)
        return bad("invalid_field", "\"" + std::string(key) + "\" is longer than " + std::to_string(max) + " bytes");
    return std::string(t);
}

}  // namespace

json::value to_json(const forum_row& f) { return {{"id", f.id}, {"name", f.name}}; }

json::value to_json(const post_row& p) {
    return {{"id", p.id}, {"forum_id", p.forum_id}, {"title", p.title}, {"body", p.body}};
}

std::string error_body(std::string_view code, std::string_view message) {
    return json::serialize(json::object{{"error", code}, {"message", message}});
}

std::variant<forum_row, api_error> parse_forum(std::string_view body, std::int64_t path_id) {
    auto o = object_body(body, {"name"}, path_id);
    if (auto* e = std::get_if<api_error>(&o)) return *e;
    auto name = text_field(std::get<json::object>(o), "name", max_name_bytes, true, false);
    if (auto* e = std::get_if<api_error>(&name)) return *e;
    return forum_row{path_id, std::get<std::string>(std::move(name))};
}

std::variant<post_row, api_error> parse_post(std::string_view body, std::int64_t path_id) {
    auto o = object_body(body, {"forum_id", "title", "body"}, path_id);
    if (auto* e = std::get_if<api_error>(&o)) return *e;
    const auto& obj = std::get<json::object>(o);
    post_row p;
    p.id = path_id;
    const auto* fid = obj.if_contains("forum_id");
    if (!fid) return bad("invalid_field", "\"forum_id\" is required");
    if (!fid->is_int64() || fid->as_int64() <= 0)
        return bad("invalid_field", "\"forum_id\" must be a positive integer");
    p.forum_id = fid->as_int64();
    auto title = text_field(obj, "title", max_title_bytes, true, false);
    if (auto* e = std::get_if<api_error>(&title)) return *e;
    p.title = std::get<std::string>(std::move(title));
    auto text = text_field(obj, "body", max_body_bytes, false, true);
    if (auto* e = std::get_if<api_error>(&text)) return *e;
    p.body = std::get<std::string>(std::move(text));
    return p;
}

std::int64_t parse_id(std::string_view s) {
    if (s.empty() || s.size() > 18 || s.front() == '0') return 0;
    std::int64_t v = 0;
    const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    if (r.ec != std::errc{} || r.ptr != s.data() + s.size()) return 0;
    return v;
}

}  // namespace forum
