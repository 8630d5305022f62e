// SPDX-License-Identifier: MIT
#include "option_set.hpp"

#include "config_error.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace notifierd {

namespace {

std::string toml_string(std::string_view s) {
    std::string out = "\"";
    for (const unsigned char c : s) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\t': out += "\\t"; break;
        default:
            if (c < 0x20 || c == 0x7f) {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\u%04x", c);
                out += buf;
            } else {
                out += static_cast<char>(c);
            }
        }
    }
    return out + '"';
}

// Edit distance, for "did you mean"; option names are short.
std::size_t distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t up = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
            diagonal = up;
        }
    }
    return row[b.size()];
}

// Whether CLI11's message is about option `name` ("--name: ...", "... --name = x").
bool mentions(const std::string& message, const std::string& name) {
    const std::string flag = "--" + name;
    for (auto pos = message.find(flag); pos != std::string::npos; pos = message.find(flag, pos + 1)) {
        const auto end = pos + flag.size();
        if (end == message.size() || !(std::isalnum(static_cast<unsigned char>(message[end])) || message[end] == '-'))
            return true;
    }
    return false;
}

// Type checks that run before an option's own range check, so that "abc" is
// not reported as out of range.
CLI::Validator integer_check(bool non_negative) {
    return CLI::Validator(
        [non_negative](std::string& s) -> std::string {
            const char* end = s.data() + s.size();
            bool ok = false;
            if (non_negative) {
                unsigned long long v;
                ok = !s.empty() && s.front() != '-' && std::from_chars(s.data(), end, v).ptr == end;
            } else {
                long long v;
                ok = std::from_chars(s.data(), end, v).ptr == end;
            }
            if (ok) return {};
            return std::string("expected ") + (non_negative ? "a non-negative integer" : "an integer") + ", got \"" +
                   s + "\"";
        },
        "");
}

CLI::Validator number_check() {
    return CLI::Validator(
        [](std::string& s) -> std::string {
            char* end = nullptr;
            const double v = std::strtod(s.c_str(), &end);
            if (!s.empty() && end == s.c_str() + s.size() && std::isfinite(v)) return {};
            return "expected a number, got \"" + s + "\"";
        },
        "");
}

// Connection strings may carry a password: postgresql://user:PASSWORD@host
// or password=PASSWORD.
std::string without_passwords(std::string s) {
    if (const auto scheme = s.find("://"); scheme != std::string::npos) {
        const auto at = s.find('@', scheme);
        const auto colon = s.find(':', scheme + 3);
        if (at != std::string::npos && colon != std::string::npos && colon < at)
            s.replace(colon + 1, at - colon - 1, "(redacted)");
    }
    for (auto pos = s.find("password="); pos != std::string::npos; pos = s.find("password=", pos + 1)) {
        const auto begin = pos + 9;
        const auto end = std::min(s.find(' ', begin), s.find('"', begin));
        s.replace(begin, (end == std::string::npos ? s.size() : end) - begin, "(redacted)");
    }
    return s;
}

}  // namespace

std::string option_set::env_name(std::string_view name) {
    std::string env = "NOTIFIER_";
    for (const char c : name) env += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return env;
}

CLI::Option* option_set::remember(CLI::Option* o, const std::string& name, value_kind kind,
                                  std::function<std::string()> to_toml) {
    o->envname(env_name(name));
    auto& e = entries_.emplace_back();
    e.name = name;
    e.kind = kind;
    e.option = o;
    e.to_toml = std::move(to_toml);
    return o;
}

CLI::Option* option_set::add(CLI::App& group, const std::string& name, std::size_t& value, const std::string& help) {
    auto* o = group.add_option("--" + name, value, help)->capture_default_str()->check(integer_check(true));
    return remember(o, name, value_kind::integer, [&value] { return std::to_string(value); });
}

CLI::Option* option_set::add(CLI::App& group, const std::string& name, long& value, const std::string& help) {
    auto* o = group.add_option("--" + name, value, help)->capture_default_str()->check(integer_check(false));
    return remember(o, name, value_kind::integer, [&value] { return std::to_string(value); });
}

CLI::Option* option_set::add(CLI::App& group, const std::string& name, double& value, const std::string& help) {
    auto* o = group.add_option("--" + name, value, help)->capture_default_str()->check(number_check());
    return remember(o, name, value_kind::number,
                    [&value] {
                        char buf[32];
                        std::snprintf(buf, sizeof buf, "%.17g", value);
                        return std::string(buf);
                    });
}

CLI::Option* option_set::add(CLI::App& group, const std::string& name, std::string& value, const std::string& help) {
    auto* o = group.add_option("--" + name, value, help);
    if (!value.empty()) o->capture_default_str();
    return remember(o, name, value_kind::string, [&value] { return value.empty() ? std::string() : toml_string(value); });
}

CLI::Option* option_set::add(CLI::App& group, const std::string& name, std::vector<std::string>& value,
                             const std::string& help) {
    return remember(group.add_option("--" + name, value, help), name, value_kind::strings, [&value] {
        if (value.empty()) return std::string();
        std::string out = "[";
        for (const auto& v : value) out += (out.size() > 1 ? ", " : "") + toml_string(v);
        return out + "]";
    });
}

CLI::Option* option_set::add_flag(CLI::App& group, const std::string& name, bool& value, const std::string& help) {
    return remember(group.add_flag("--" + name, value, help), name, value_kind::boolean,
                    [&value] { return std::string(value ? "true" : "false"); });
}

void option_set::secret(std::string_view name) {
    if (auto* e = find(name)) e->secret = true;
}

void option_set::not_built(const std::vector<std::string>& names, const std::string& why) {
    for (const auto& n : names) not_built_[n] = why;
}

option_set::entry* option_set::find(std::string_view name) {
    for (auto& e : entries_)
        if (e.name == name) return &e;
    return nullptr;
}

std::string option_set::suggest(std::string_view key, std::span<const std::string_view> also) const {
    // snake_case is the likeliest slip: it is how many TOML files spell keys.
    std::string dashed(key);
    std::replace(dashed.begin(), dashed.end(), '_', '-');
    // More edits than a third of the key is not a typo (at most 3).
    std::size_t best_distance = std::min<std::size_t>(3, std::max<std::size_t>(1, key.size() / 3)) + 1;
    std::string best;
    auto consider = [&](std::string_view name) {
        if (const auto d = distance(dashed, name); d < best_distance) {
            best_distance = d;
            best = name;
        }
    };
    for (const auto& e : entries_) consider(e.name);
    for (const auto name : also) consider(name);
    return best;
}

const std::string* option_set::not_built_reason(std::string_view key) const {
    const auto it = not_built_.find(key);
    return it == not_built_.end() ? nullptr : &it->second;
}

void option_set::note_origins(int argc, char** argv) {
    for (auto& e : entries_) {
        const std::string flag = "--" + e.name;
        const bool on_command_line = std::any_of(argv + 1, argv + argc, [&](const char* arg) {
            const std::string_view a(arg);
            return a == flag || (a.size() > flag.size() && a.substr(0, flag.size()) == flag && a[flag.size()] == '=');
        });
        const char* env = std::getenv(e.option->get_envname().c_str());
        if (on_command_line)
            e.origin = value_origin::flag;
        else if (env != nullptr && *env != '\0')  // CLI11 ignores empty variables
            e.origin = value_origin::env;
    }
}

void option_set::set_from_file(entry& e, const std::vector<std::string>& values, const std::string& where) {
    if (e.origin == value_origin::flag || e.origin == value_origin::env) return;  // they win over the file
    e.origin = value_origin::file;
    e.where = where;
    if (values.empty()) return;  // `key = []`: none, which is every list option's default
    try {
        e.option->add_result(values);
        e.option->run_callback();
    } catch (const CLI::Error& err) {
        std::string why = err.what();
        const std::string prefix = "--" + e.name + ": ";
        if (why.rfind(prefix, 0) == 0) why.erase(0, prefix.size());
        throw config_error(where + ": " + e.name + ": " + why);
    }
}

std::string option_set::source(std::string_view name) const {
    for (const auto& e : entries_) {
        if (e.name != name) continue;
        if (e.origin == value_origin::env) return " (from " + e.option->get_envname() + ")";
        if (e.origin == value_origin::file) return " (from " + e.where + ")";
    }
    return {};
}

std::string option_set::explain(const std::string& cli_message) const {
    for (const auto& e : entries_)
        if (e.origin == value_origin::env && mentions(cli_message, e.name)) return cli_message + source(e.name);
    return cli_message;
}

std::string option_set::effective_toml() const {
    std::string out = "# notifierd: effective configuration (flag > NOTIFIER_* variable > file > default)\n";
    for (const auto& e : entries_) {
        std::string value = e.to_toml();
        std::string line;
        if (value.empty()) {
            line = "# " + e.name + " = (not set)";
        } else {
            if (e.secret)
                value = e.kind == value_kind::strings ? "[\"(redacted)\"]" : "\"(redacted)\"";
            else if (e.kind == value_kind::string)
                value = without_passwords(value);
            line = e.name + " = " + value;
        }
        if (line.size() < 40) line.resize(40, ' ');
        switch (e.origin) {
        case value_origin::defaulted: line += "  # default"; break;
        case value_origin::file: line += "  # " + e.where; break;
        case value_origin::env: line += "  # " + e.option->get_envname(); break;
        case value_origin::flag: line += "  # --" + e.name; break;
        }
        out += line + '\n';
    }
    return out;
}

}  // namespace notifierd
