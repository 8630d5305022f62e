// SPDX-License-Identifier: MIT
#include "rest_api.hpp"

#include "forum_json.hpp"

#include <boost/beast/core/string.hpp>
#include <boost/json.hpp>
#include <boost/url/parse_query.hpp>

#include <cstdio>

namespace forum {

namespace json = boost::json;
using notifier::http_request;
using notifier::http_response;

namespace {

http_response reply(unsigned status, const json::value& v) {
    http_response r;
    r.status = status;
    r.body = json::serialize(v);
    // The app re-fetches after each notification: never a cached answer.
    r.headers.emplace_back("Cache-Control", "no-store");
    return r;
}

http_response error(unsigned status, std::string_view code, std::string_view message) {
    http_response r;
    r.status = status;
    r.body = error_body(code, message);
    r.headers.emplace_back("Cache-Control", "no-store");
    return r;
}

http_response error(const api_error& e) { return error(e.status, e.code, e.message); }

http_response not_allowed(const char* allow) {
    auto r = error(405, "method_not_allowed", std::string("allowed: ") + allow);
    r.headers.emplace_back("Allow", allow);
    return r;
}

http_response no_content() {
    http_response r;
    r.status = 204;
    r.headers.emplace_back("Cache-Control", "no-store");
    return r;
}

// JSON only: a browser cannot send application/json cross-site without a
// CORS preflight, which this API never grants (no cross-site writes).
bool is_json(const http_request& req) {
    auto v = req.header("Content-Type");
    v = v.substr(0, v.find(';'));
    while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
    return boost::beast::iequals(v, "application/json");
}

bool reads(const http_request& req) { return req.method == "GET" || req.method == "HEAD"; }

}  // namespace

rest_api::rest_api(const std::string& db_path, std::function<void()> after_write)
    : store_(db_path), after_write_(std::move(after_write)) {}

rest_api::~rest_api() { stop(); }

void rest_api::stop() { worker_.stop(); }

notifier::http_handler rest_api::handler() {
    return [this](const http_request& req, notifier::http_responder respond) {
        if (req.path != "/api" && req.path.rfind("/api/", 0) != 0) return false;
        auto job = [this, req, respond]() mutable { respond(handle(req)); };
        if (!worker_.post(std::move(job)))
            respond(error(503, "overloaded", "too many requests are waiting; retry"));
        return true;
    };
}

http_response rest_api::handle(const http_request& req) {
    // /api/<collection>[/<id>]
    std::string_view rest = std::string_view(req.path).substr(std::min<std::size_t>(req.path.size(), 5));
    const auto slash = rest.find('/');
    const std::string collection(rest.substr(0, slash));
    const std::string id = slash == std::string_view::npos ? std::string() : std::string(rest.substr(slash + 1));
    const bool has_id = slash != std::string_view::npos;
    try {
        if (collection == "forums") return forums(req, has_id ? &id : nullptr);
        if (collection == "posts") return posts(req, has_id ? &id : nullptr);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "notifier-forum: %s %s: %s\n", req.method.c_str(), req.path.c_str(), e.what());
        return error(500, "internal_error", "the request failed; see the server's log");
    }
    return error(404, "not_found", "no such API path; see /api/forums and /api/posts");
}

http_response rest_api::forums(const http_request& req, const std::string* id_text) {
    if (!id_text) {
        if (reads(req)) {
            json::array a;
            for (const auto& f : store_.list_forums()) a.push_back(to_json(f));
            return reply(200, a);
        }
        if (req.method != "POST") return not_allowed("GET, HEAD, POST");
        if (!is_json(req)) return error(415, "unsupported_media_type", "Content-Type must be application/json");
        auto in = parse_forum(req.body);
        if (auto* e = std::get_if<api_error>(&in)) return error(*e);
        const auto created = store_.create_forum(std::get<forum_row>(in).name);
        after_write_();
        auto r = reply(201, to_json(created));
        r.headers.emplace_back("Location", "/api/forums/" + std::to_string(created.id));
        return r;
    }
    const auto id = parse_id(*id_text);
    const auto missing = [&] { return error(404, "not_found", "no forum with id " + *id_text); };
    if (reads(req)) {
        if (!id) return missing();
        auto f = store_.find_forum(id);
        return f ? reply(200, to_json(*f)) : missing();
    }
    if (req.method == "PUT") {
        if (!id) return missing();
        if (!is_json(req)) return error(415, "unsupported_media_type", "Content-Type must be application/json");
        auto in = parse_forum(req.body, id);
        if (auto* e = std::get_if<api_error>(&in)) return error(*e);
        auto f = store_.update_forum(id, std::get<forum_row>(in).name);
        if (!f) return missing();
        after_write_();
        return reply(200, to_json(*f));
    }
    if (req.method == "DELETE") {
        if (!id || !store_.delete_forum(id)) return missing();
        after_write_();
        return no_content();
    }
    return not_allowed("GET, HEAD, PUT, DELETE");
}

http_response rest_api::posts(const http_request& req, const std::string* id_text) {
    if (!id_text) {
        if (reads(req)) {
            std::optional<std::int64_t> forum_id;
            auto q = boost::urls::parse_query(req.query);
            if (!q) return error(400, "invalid_query", "malformed query string");
            for (auto p : *q) {
                if (p.key.decode() != "forum_id") continue;
                const auto v = parse_id(p.value.decode());
                if (!v) return error(400, "invalid_query", "forum_id must be a positive integer");
                forum_id = v;
            }
            json::array a;
            for (const auto& p : store_.list_posts(forum_id)) a.push_back(to_json(p));
            return reply(200, a);
        }
        if (req.method != "POST") return not_allowed("GET, HEAD, POST");
        if (!is_json(req)) return error(415, "unsupported_media_type", "Content-Type must be application/json");
        auto in = parse_post(req.body);
        if (auto* e = std::get_if<api_error>(&in)) return error(*e);
        const auto& p = std::get<post_row>(in);
        auto created = store_.create_post(p);
        if (!created) return error(400, "unknown_forum", "no forum with id " + std::to_string(p.forum_id));
        after_write_();
        auto r = reply(201, to_json(*created));
        r.headers.emplace_back("Location", "/api/posts/" + std::to_string(created->id));
        return r;
    }
    const auto id = parse_id(*id_text);
    const auto missing = [&] { return error(404, "not_found", "no post with id " + *id_text); };
    if (reads(req)) {
        if (!id) return missing();
        auto p = store_.find_post(id);
        return p ? reply(200, to_json(*p)) : missing();
    }
    if (req.method == "PUT") {
        if (!id) return missing();
        if (!is_json(req)) return error(415, "unsupported_media_type", "Content-Type must be application/json");
        auto in = parse_post(req.body, id);
        if (auto* e = std::get_if<api_error>(&in)) return error(*e);
        const auto& p = std::get<post_row>(in);
        auto updated = store_.update_post(p);
        if (!updated) {
            if (!store_.find_post(id)) return missing();
            return error(400, "unknown_forum", "no forum with id " + std::to_string(p.forum_id));
        }
        after_write_();
        return reply(200, to_json(*updated));
    }
    if (req.method == "DELETE") {
        if (!id || !store_.delete_post(id)) return missing();
        after_write_();
        return no_content();
    }
    return not_allowed("GET, HEAD, PUT, DELETE");
}

}  // namespace forum
