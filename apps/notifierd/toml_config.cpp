// SPDX-License-Identifier: MIT
#include "toml_config.hpp"

#include "config_error.hpp"
#include "option_set.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string_view>
#include <utility>
#include <vector>

namespace notifierd {

namespace {

std::string_view type_name(toml::node_type t) {
    switch (t) {
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a floating-point number";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::date: return "a date";
    case toml::node_type::time: return "a time";
    case toml::node_type::date_time: return "a date-time";
    case toml::node_type::none: break;
    }
    return "nothing";
}

std::string_view expected(value_kind k) {
    switch (k) {
    case value_kind::integer: return "an integer";
    case value_kind::number: return "a number";
    case value_kind::string: return "a string";
    case value_kind::strings: return "an array of strings (or one string)";
    case value_kind::boolean: return "true or false";
    }
    return "";
}

// The TOML value as the strings CLI11 converts and checks, or the reason it
// has the wrong type.
std::vector<std::string> to_inputs(const toml::node& node, value_kind kind, std::string& wrong) {
    const auto type = node.type();
    switch (kind) {
    case value_kind::integer:
        if (type == toml::node_type::integer) return {std::to_string(*node.value<std::int64_t>())};
        break;
    case value_kind::number:
        if (type == toml::node_type::integer) return {std::to_string(*node.value<std::int64_t>())};
        if (type == toml::node_type::floating_point) {
            char buf[32];
            std::snprintf(buf, sizeof buf, "%.17g", *node.value<double>());
            return {buf};
        }
        break;
    case value_kind::string:
        if (type == toml::node_type::string) return {*node.value<std::string>()};
        break;
    case value_kind::boolean:
        if (type == toml::node_type::boolean) return {*node.value<bool>() ? "true" : "false"};
        break;
    case value_kind::strings:
        if (type == toml::node_type::string) return {*node.value<std::string>()};
        if (const auto* array = node.as_array()) {
            std::vector<std::string> out;
            for (std::size_t i = 0; i < array->size(); ++i) {
                const auto& element = *array->get(i);
                if (!element.is_string()) {
                    wrong = "expected " + std::string(expected(kind)) + ", element " + std::to_string(i + 1) +
                            " is " + std::string(type_name(element.type()));
                    return {};
                }
                out.push_back(*element.value<std::string>());
            }
            return out;
        }
        break;
    }
    wrong = "expected " + std::string(expected(kind)) + ", got " + std::string(type_name(type));
    return {};
}

std::string read_whole_file(const std::string& path) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec))
        throw config_error("--config: cannot read " + path + ": it is a directory");
    std::ifstream f(path, std::ios::binary);
    if (!f) throw config_error("--config: cannot read " + path + ": " + std::strerror(errno));
    std::string text{std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
    if (f.bad()) throw config_error("--config: cannot read " + path + ": " + std::strerror(errno));
    return text;
}

}  // namespace

void apply_toml_file(option_set& opts, const std::string& path) {
    const std::string text = read_whole_file(path);
    toml::table root;
    try {
        root = toml::parse(std::string_view(text), std::string_view(path));
    } catch (const toml::parse_error& e) {
        const auto& at = e.source().begin;
        throw config_error(path + ":" + std::to_string(at.line) + ":" + std::to_string(at.column) +
                           ": TOML syntax error: " + std::string(e.description()));
    }
    // In the order of the file, so the first mistake is the one reported.
    std::vector<std::pair<std::string_view, const toml::node*>> keys;
    for (const auto& [key, node] : root) keys.emplace_back(key.str(), &node);
    std::stable_sort(keys.begin(), keys.end(), [](const auto& a, const auto& b) {
        return a.second->source().begin.line < b.second->source().begin.line;
    });
    for (const auto& [key, node] : keys) {
        const std::string where = path + ":" + std::to_string(node->source().begin.line);
        const std::string name(key);
        auto* e = opts.find(name);
        if (e == nullptr) {
            if (name == "config" || name == "check-config" || name == "help")
                throw config_error(where + ": " + name + ": only a command-line option, not a key of the file");
            if (const auto* why = opts.not_built_reason(name)) throw config_error(where + ": " + name + ": " + *why);
            std::string message = where + ": unknown key '" + name + "'";
            if (const auto close = opts.suggest(name); !close.empty())
                message += " (did you mean '" + close + "'?)";
            else if (node->is_table())
                message += " (the file has no tables: its keys are the option names, at the top level)";
            throw config_error(message);
        }
        std::string wrong;
        const auto inputs = to_inputs(*node, e->kind, wrong);
        if (!wrong.empty()) throw config_error(where + ": " + name + ": " + wrong);
        opts.set_from_file(*e, inputs, where);
    }
}

}  // namespace notifierd
