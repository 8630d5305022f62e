// SPDX-License-Identifier: MIT
#pragma once
// notifierd's one option set. Every option NAME is three things: the flag
// `--NAME`, the environment variable `NOTIFIER_NAME` (upper case, '-' → '_')
// and the key `NAME` of the TOML file. CLI11 reads flags and variables (a
// flag wins over its variable); the file is applied afterwards, and only to
// options neither of them set. Hence flag > env > file > default.
//
// Not CLI11's own config-file support: CLI11 2.1.2 applies the file before
// the variables (the file would win) and reads --config before its variable
// (NOTIFIER_CONFIG would be ignored), and its messages lose the file's line.

#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace CLI {
class App;
class Option;
}  // namespace CLI

namespace notifierd {

/// What a TOML value must be for an option.
enum class value_kind { integer, number, string, strings, boolean };

/// Where an option's effective value came from (shown by --check-config).
enum class value_origin { defaulted, file, env, flag };

class option_set {
public:
    struct entry {
        std::string name;  ///< without dashes: also the TOML key
        value_kind kind = value_kind::string;
        CLI::Option* option = nullptr;
        /// The current value as a TOML value; empty when unset.
        std::function<std::string()> to_toml;
        bool secret = false;
        value_origin origin = value_origin::defaulted;
        std::string where;  ///< FILE:LINE when the value came from the file
    };

    /// NOTIFIER_ + `name` in upper case with '-' → '_'.
    static std::string env_name(std::string_view name);

    /// Registers `--name` on `group` (the app or one of its option groups)
    /// with its environment variable; the bound variable's value is the default.
    CLI::Option* add(CLI::App& group, const std::string& name, std::size_t& value, const std::string& help);
    CLI::Option* add(CLI::App& group, const std::string& name, long& value, const std::string& help);
    CLI::Option* add(CLI::App& group, const std::string& name, double& value, const std::string& help);
    CLI::Option* add(CLI::App& group, const std::string& name, std::string& value, const std::string& help);
    /// Repeatable; an array in the file.
    CLI::Option* add(CLI::App& group, const std::string& name, std::vector<std::string>& value,
                     const std::string& help);
    CLI::Option* add_flag(CLI::App& group, const std::string& name, bool& value, const std::string& help);
    /// --check-config prints the option's value redacted.
    void secret(std::string_view name);
    /// Names of options this build lacks, so the file gets a better answer
    /// than "unknown key".
    void not_built(const std::vector<std::string>& names, const std::string& why);

    entry* find(std::string_view name);
    /// The option name closest to a mistyped `key` (a file's key or a flag
    /// without its dashes; snake_case counts as kebab-case), for "did you
    /// mean"; `also`: names to consider besides the options (flags such as
    /// --config that are not file keys). Empty when none is close.
    std::string suggest(std::string_view key, std::span<const std::string_view> also = {}) const;
    /// Why `key` is missing from this build, or nullptr.
    const std::string* not_built_reason(std::string_view key) const;

    /// After CLI11 parsed argv and the environment: records which options the
    /// command line set and which a variable set.
    void note_origins(int argc, char** argv);
    /// Applies a value read from the file at `where` (FILE:LINE) unless a flag
    /// or a variable set the option. Throws config_error naming `where` and
    /// the option.
    void set_from_file(entry& e, const std::vector<std::string>& values, const std::string& where);
    /// " (from FILE:LINE)" or " (from NOTIFIER_X)" when option `name` got its
    /// value there, else empty: for error messages.
    std::string source(std::string_view name) const;
    /// A CLI11 error message, with the variable named when an option's value
    /// came from one.
    std::string explain(const std::string& cli_message) const;
    /// The effective configuration as a TOML file notifierd accepts, each
    /// line commented with its origin; secrets redacted.
    std::string effective_toml() const;

private:
    CLI::Option* remember(CLI::Option* o, const std::string& name, value_kind kind,
                          std::function<std::string()> to_toml);

    std::deque<entry> entries_;  // find() hands out pointers: no reallocation
    std::map<std::string, std::string, std::less<>> not_built_;
};

}  // namespace notifierd
