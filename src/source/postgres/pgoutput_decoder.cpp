// SPDX-License-Identifier: MIT
#include "source/postgres/pgoutput_decoder.hpp"

#include <charconv>
#include <chrono>
#include <cstdio>

namespace notifier::pg {

namespace {

// A bounds-checked big-endian reader: every read fails once past the end, so
// decoders check `ok()` once at the end of a message.
class reader {
public:
    explicit reader(std::string_view b) : b_(b) {}

    bool ok() const noexcept { return ok_; }
    bool at_end() const noexcept { return pos_ == b_.size(); }

    std::uint64_t uint(int bytes) {
        if (!take(bytes)) return 0;
        std::uint64_t v = 0;
        for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<unsigned char>(b_[pos_ - bytes + i]);
        return v;
    }
    std::int64_t int64() { return static_cast<std::int64_t>(uint(8)); }
    std::uint32_t uint32() { return static_cast<std::uint32_t>(uint(4)); }
    std::int32_t int32() { return static_cast<std::int32_t>(uint32()); }
    std::uint16_t uint16() { return static_cast<std::uint16_t>(uint(2)); }
    char byte() { return static_cast<char>(uint(1)); }

    std::string_view bytes(std::size_t n) {
        if (!take(n)) return {};
        return b_.substr(pos_ - n, n);
    }
    /// A NUL-terminated string.
    std::string_view cstring() {
        const auto end = b_.find('\0', pos_);
        if (!ok_ || end == std::string_view::npos) {
            ok_ = false;
            return {};
        }
        auto s = b_.substr(pos_, end - pos_);
        pos_ = end + 1;
        return s;
    }
    std::string_view rest() {
        auto s = b_.substr(pos_);
        pos_ = b_.size();
        return s;
    }

private:
    bool take(std::size_t n) {
        if (!ok_ || b_.size() - pos_ < n) {
            ok_ = false;
            return false;
        }
        pos_ += n;
        return true;
    }

    std::string_view b_;
    std::size_t pos_ = 0;
    bool ok_ = true;
};

bool read_tuple(reader& r, tuple& out, std::string& error) {
    const std::uint16_t n = r.uint16();
    out.clear();
    out.reserve(n);
    for (std::uint16_t i = 0; i < n && r.ok(); ++i) {
        value v;
        const char kind = r.byte();
        switch (kind) {
            case 'n': v.k = value::kind::null; break;
            case 'u': v.k = value::kind::unchanged_toast; break;
            case 't':
            case 'b': {
                v.k = kind == 't' ? value::kind::text : value::kind::binary;
                const std::int32_t len = r.int32();
                if (len < 0) {
                    error = "negative column length";
                    return false;
                }
                v.bytes = r.bytes(static_cast<std::size_t>(len));
                break;
            }
            default:
                error = r.ok() ? "unknown column kind" : "truncated tuple";
                return false;
        }
        out.push_back(v);
    }
    if (!r.ok() && error.empty()) error = "truncated tuple";
    return r.ok();
}

template <class T>
std::optional<message> finish(reader& r, T&& m, std::string& error, const char* what) {
    if (!r.ok() || !r.at_end()) {
        if (error.empty()) error = std::string(r.ok() ? "trailing bytes in " : "truncated ") + what;
        return std::nullopt;
    }
    return message(std::forward<T>(m));
}

}  // namespace

std::string format_lsn(lsn v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%X/%X", static_cast<unsigned>(v >> 32), static_cast<unsigned>(v & 0xffffffffu));
    return buf;
}

std::optional<lsn> parse_lsn(std::string_view s) {
    const auto slash = s.find('/');
    if (slash == std::string_view::npos || slash == 0 || slash + 1 == s.size()) return std::nullopt;
    std::uint32_t hi = 0, lo = 0;
    auto a = std::from_chars(s.data(), s.data() + slash, hi, 16);
    auto b = std::from_chars(s.data() + slash + 1, s.data() + s.size(), lo, 16);
    if (a.ec != std::errc{} || a.ptr != s.data() + slash || b.ec != std::errc{} || b.ptr != s.data() + s.size())
        return std::nullopt;
    return (static_cast<lsn>(hi) << 32) | lo;
}

std::optional<envelope> decode_envelope(std::string_view bytes, std::string& error) {
    reader r(bytes);
    switch (r.byte()) {
        case 'w': {
            xlog_data d;
            d.start = r.uint(8);
            d.wal_end = r.uint(8);
            d.send_time = r.int64();
            d.payload = r.rest();
            if (!r.ok()) break;
            return envelope(d);
        }
        case 'k': {
            keepalive k;
            k.wal_end = r.uint(8);
            k.send_time = r.int64();
            k.reply_requested = r.byte() != 0;
            if (!r.ok() || !r.at_end()) break;
            return envelope(k);
        }
        default:
            error = bytes.empty() ? "empty CopyData message" : "unknown CopyData message";
            return std::nullopt;
    }
    error = "malformed CopyData message";
    return std::nullopt;
}

std::string encode_status_update(lsn written, lsn flushed, std::int64_t now_us, bool reply_requested) {
    std::string out;
    out.reserve(34);
    out.push_back('r');
    auto put = [&out](std::uint64_t v) {
        for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>((v >> (i * 8)) & 0xff));
    };
    put(written);
    put(flushed);
    put(flushed);  // applied: we apply what we flush
    put(static_cast<std::uint64_t>(now_us));
    out.push_back(reply_requested ? 1 : 0);
    return out;
}

std::int64_t pg_now_us() {
    using namespace std::chrono;
    constexpr std::int64_t unix_to_pg_us = 946'684'800LL * 1'000'000;
    return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count() - unix_to_pg_us;
}

std::optional<message> decode_message(std::string_view bytes, std::string& error) {
    reader r(bytes);
    const char tag = r.byte();
    switch (tag) {
        case 'B': {
            begin m;
            m.final_lsn = r.uint(8);
            m.commit_time = r.int64();
            m.xid = r.uint32();
            return finish(r, m, error, "Begin");
        }
        case 'C': {
            commit m;
            r.byte();  // flags, unused
            m.commit_lsn = r.uint(8);
            m.end_lsn = r.uint(8);
            m.commit_time = r.int64();
            return finish(r, m, error, "Commit");
        }
        case 'R': {
            relation m;
            m.oid = r.uint32();
            m.schema = r.cstring();
            m.name = r.cstring();
            m.replica_identity = r.byte();
            const std::uint16_t n = r.uint16();
            for (std::uint16_t i = 0; i < n && r.ok(); ++i) {
                column c;
                c.key = (r.byte() & 1) != 0;
                c.name = r.cstring();
                c.type_oid = r.uint32();
                r.int32();  // type modifier
                m.columns.push_back(std::move(c));
            }
            return finish(r, std::move(m), error, "Relation");
        }
        case 'I': {
            change m;
            m.op = 'I';
            m.relation = r.uint32();
            if (r.byte() != 'N') {
                error = "Insert without a new tuple";
                return std::nullopt;
            }
            if (!read_tuple(r, m.new_values, error)) return std::nullopt;
            return finish(r, std::move(m), error, "Insert");
        }
        case 'U': {
            change m;
            m.op = 'U';
            m.relation = r.uint32();
            char next = r.byte();
            if (next == 'K' || next == 'O') {
                m.old_kind = next;
                if (!read_tuple(r, m.old_values, error)) return std::nullopt;
                next = r.byte();
            }
            if (next != 'N') {
                error = "Update without a new tuple";
                return std::nullopt;
            }
            if (!read_tuple(r, m.new_values, error)) return std::nullopt;
            return finish(r, std::move(m), error, "Update");
        }
        case 'D': {
            change m;
            m.op = 'D';
            m.relation = r.uint32();
            const char kind = r.byte();
            if (kind != 'K' && kind != 'O') {
                error = "Delete without an old tuple";
                return std::nullopt;
            }
            m.old_kind = kind;
            if (!read_tuple(r, m.old_values, error)) return std::nullopt;
            return finish(r, std::move(m), error, "Delete");
        }
        case 'T': {
            truncate m;
            const std::uint32_t n = r.uint32();
            r.byte();  // options: CASCADE, RESTART IDENTITY
            if (n > bytes.size() / 4) {
                error = "truncated Truncate";
                return std::nullopt;
            }
            for (std::uint32_t i = 0; i < n && r.ok(); ++i) m.relations.push_back(r.uint32());
            return finish(r, std::move(m), error, "Truncate");
        }
        case 'Y':
        case 'O':
        case 'M':
            r.rest();
            return message(other{tag});
        default:
            error = bytes.empty() ? "empty pgoutput message" : std::string("unknown pgoutput message '") + tag + "'";
            return std::nullopt;
    }
}

}  // namespace notifier::pg
