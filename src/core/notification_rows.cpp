// SPDX-License-Identifier: MIT
#include "core/sax_handler.hpp"
#include "core/notification_rows.hpp"

#include "core/json_escape.hpp"
#include "core/json_number.hpp"

#include <boost/json/basic_parser_impl.hpp>

#include <algorithm>

namespace notifier::core {

namespace {

constexpr std::size_t max_names = 4;
constexpr std::size_t max_name = 64;

bool addressable(std::string_view name) noexcept {
    if (name.empty() || name.size() > max_name) return false;
    for (char c : name)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return false;
    return true;
}

// Flattens the values of "data" and "old" as the parser walks the text.
class rows_handler : public sax_handler {
public:
    explicit rows_handler(const row_paths* only) : only_(only) {}

    notification_rows rows;

    bool on_object_begin(ec_t&) {
        if (skip_) {
            ++skip_;
            return true;
        }
        if (frames_.empty()) {
            frames_.push_back({frame::kind::notification, {}, 0});
            return true;
        }
        const auto k = start_value(kind::object);
        if (k == kind::object) return true;
        skip_ = 1;
        return true;
    }

    bool on_object_end(std::size_t, ec_t&) {
        if (skip_) {
            --skip_;
            return true;
        }
        const frame f = std::move(frames_.back());
        frames_.pop_back();
        if (f.type == frame::kind::member) side().members[f.member].last = side().entries.size();
        else if (f.type == frame::kind::side) side_ = nullptr;
        return true;
    }

    bool on_array_begin(ec_t&) {
        if (!skip_ && !frames_.empty()) start_value(kind::array);
        ++skip_;  // no filter looks into an array
        return true;
    }
    bool on_array_end(std::size_t, ec_t&) {
        --skip_;
        return true;
    }

    bool on_key_part(sv s, std::size_t, ec_t&) {
        if (!skip_) key_.append(s.data(), s.size());
        return true;
    }
    bool on_key(sv s, std::size_t, ec_t&) {
        if (!skip_) key_.append(s.data(), s.size());
        return true;
    }

    bool on_string_part(sv s, std::size_t, ec_t&) {
        if (!skip_) text_.append(s.data(), s.size());
        return true;
    }
    bool on_string(sv s, std::size_t, ec_t&) {
        if (skip_) return true;
        text_.append(s.data(), s.size());
        std::string v;
        append_json_string(v, text_);
        return scalar(std::move(v));
    }

    bool on_number_part(sv s, ec_t&) {
        if (!skip_) text_.append(s.data(), s.size());
        return true;
    }
    bool on_int64(std::int64_t i, sv, ec_t&) { return skip_ ? true : scalar(canonical_number(i)); }
    bool on_uint64(std::uint64_t u, sv, ec_t&) { return skip_ ? true : scalar(canonical_number(u)); }
    bool on_double(double d, sv s, ec_t&) {
        if (skip_) return true;
        text_.append(s.data(), s.size());
        // Beyond a double's range (1e400): no filter value can equal it.
        auto exact = canonical_double_text(text_);
        (void)d;
        return scalar(exact ? std::move(*exact) : std::string(opaque_value));
    }
    bool on_bool(bool b, ec_t&) { return skip_ ? true : scalar(b ? "true" : "false"); }
    bool on_null(ec_t&) { return skip_ ? true : scalar("null"); }

    void finish() {
        resolve(rows.data, data_);
        resolve(rows.old, old_);
    }

private:
    enum class kind { object, array, scalar };
    struct frame {
        enum class kind { notification, side, member } type;
        std::string path;        // of a member object: its dotted path
        std::size_t member = 0;  // of a member object: its index in members
    };
    struct entry {
        std::string path;
        std::string value;
        bool alive = true;
    };
    struct member {
        std::string path;
        std::size_t first;
        std::size_t last;  // one past its last entry
    };
    struct side_state {
        std::vector<entry> entries;
        std::vector<member> members;
    };

    side_state& side() { return side_ == &rows.data ? data_ : old_; }

    bool scalar(std::string value) {
        text_.clear();
        if (!frames_.empty()) start_value(kind::scalar, std::move(value));
        return true;
    }

    // A value starts inside the object on top of frames_, under key_.
    // Returns kind::object when a frame was pushed for it.
    kind start_value(kind k, std::string value = {}) {
        const std::string key = std::move(key_);
        key_.clear();
        const frame& top = frames_.back();
        if (top.type == frame::kind::notification) {
            // data_omitted: data exists but is unknown, which holds every
            // filter, as a data that is not an object does.
            if (key == "data_omitted" && k == kind::scalar && value == "true" && !rows.data.present) {
                rows.data.present = true;
                rows.data.object = false;
                return kind::scalar;
            }
            row_side* s = key == "data" ? &rows.data : key == "old" ? &rows.old : nullptr;
            if (!s) return kind::scalar;
            s->present = true;
            s->object = k == kind::object;
            s->fields.clear();
            if (k != kind::object) return kind::scalar;
            side_ = s;
            side() = {};
            frames_.push_back({frame::kind::side, {}, 0});
            return kind::object;
        }
        if (!addressable(key)) return kind::scalar;
        std::string path = top.path.empty() ? key : top.path + '.' + key;
        // Reading for some filters only: their paths, and the objects on
        // the way to them (kept as members, so that a repeated name still
        // hides what an earlier one held).
        const bool value_wanted = !only_ || only_->wants(path);
        const bool look_inside = !only_ || only_->leads_below(path);
        if (!value_wanted && !look_inside) return kind::scalar;
        auto& st = side();
        const std::size_t m = st.members.size();
        st.members.push_back({path, st.entries.size(), st.entries.size() + (value_wanted ? 1 : 0)});
        // An object is a value too: it equals no scalar.
        if (value_wanted)
            st.entries.push_back({path, k == kind::scalar ? std::move(value) : std::string(opaque_value)});
        if (k != kind::object || frames_.size() - 1 == max_names || !look_inside) return kind::scalar;
        frames_.push_back({frame::kind::member, std::move(path), m});
        return kind::object;
    }

    static void resolve(row_side& side, side_state& st) {
        // A name given twice in one object: only its last occurrence counts,
        // with everything under it.
        std::stable_sort(st.members.begin(), st.members.end(),
                         [](const member& a, const member& b) { return a.path < b.path; });
        for (std::size_t i = 0; i + 1 < st.members.size(); ++i) {
            if (st.members[i].path != st.members[i + 1].path) continue;
            for (std::size_t k = st.members[i].first; k < st.members[i].last; ++k) st.entries[k].alive = false;
        }
        side.fields.reserve(st.entries.size());
        for (auto& e : st.entries)
            if (e.alive) side.fields.emplace_back(std::move(e.path), std::move(e.value));
        std::sort(side.fields.begin(), side.fields.end());
    }

    const row_paths* only_;  // null: every path
    std::size_t skip_ = 0;  // > 0 inside something no filter looks into
    std::vector<frame> frames_;
    row_side* side_ = nullptr;
    std::string key_, text_;
    side_state data_, old_;
};

}  // namespace

const std::string* row_side::find(std::string_view path) const noexcept {
    const auto it = std::lower_bound(fields.begin(), fields.end(), path,
                                     [](const auto& f, std::string_view p) { return f.first < p; });
    return it != fields.end() && it->first == path ? &it->second : nullptr;
}

notification_rows notification_rows::parse(std::string_view json, const row_paths* only) {
    boost::json::parse_options opts;
    opts.max_depth = 128;
    opts.allow_invalid_utf8 = true;  // validated where it was accepted
    boost::json::basic_parser<rows_handler> p(opts, only);
    boost::system::error_code ec;
    p.write_some(false, json.data(), json.size(), ec);
    if (ec) return {};
    p.handler().finish();
    return std::move(p.handler().rows);
}

}  // namespace notifier::core
