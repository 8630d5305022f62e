// SPDX-License-Identifier: MIT
// core::is_valid_utf8: RFC 3629 as RFC 6455 section 8.1 requires it.

#include "core/utf8.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <utility>

namespace {

using notifier::core::is_valid_utf8;

std::string bytes(std::initializer_list<unsigned char> b) { return std::string(b.begin(), b.end()); }

TEST(Utf8, EmptyIsValid) { EXPECT_TRUE(is_valid_utf8("")); }

TEST(Utf8, Ascii) {
    EXPECT_TRUE(is_valid_utf8("a"));
    EXPECT_TRUE(is_valid_utf8("hello, world"));
    EXPECT_TRUE(is_valid_utf8(R"({"type":"subscribe","collections":["posts"]})"));
    std::string all;
    for (int c = 0; c < 0x80; ++c) all.push_back(static_cast<char>(c));
    EXPECT_TRUE(is_valid_utf8(all));
}

TEST(Utf8, EmbeddedNulIsValid) { EXPECT_TRUE(is_valid_utf8(std::string_view("a\0b\0\0\0\0\0\0\0c", 11))); }

TEST(Utf8, ValidTwoByte) {
    EXPECT_TRUE(is_valid_utf8(bytes({0xC2, 0x80})));  // U+0080, the smallest
    EXPECT_TRUE(is_valid_utf8("\xC3\xA9"));           // é
    EXPECT_TRUE(is_valid_utf8(bytes({0xDF, 0xBF})));  // U+07FF, the largest
}

TEST(Utf8, ValidThreeByte) {
    EXPECT_TRUE(is_valid_utf8(bytes({0xE0, 0xA0, 0x80})));  // U+0800, the smallest
    EXPECT_TRUE(is_valid_utf8("\xE2\x82\xAC"));              // €
    EXPECT_TRUE(is_valid_utf8(bytes({0xED, 0x9F, 0xBF})));  // U+D7FF, just below the surrogates
    EXPECT_TRUE(is_valid_utf8(bytes({0xEE, 0x80, 0x80})));  // U+E000, just above them
    EXPECT_TRUE(is_valid_utf8(bytes({0xEF, 0xBF, 0xBF})));  // U+FFFF
}

TEST(Utf8, ValidFourByte) {
    EXPECT_TRUE(is_valid_utf8(bytes({0xF0, 0x90, 0x80, 0x80})));  // U+10000, the smallest
    EXPECT_TRUE(is_valid_utf8("\xF0\x9F\x98\x80"));                // 😀
    EXPECT_TRUE(is_valid_utf8(bytes({0xF3, 0xBF, 0xBF, 0xBF})));
    EXPECT_TRUE(is_valid_utf8(bytes({0xF4, 0x8F, 0xBF, 0xBF})));  // U+10FFFF, the largest
}

TEST(Utf8, MixedText) { EXPECT_TRUE(is_valid_utf8("caf\xC3\xA9 \xE2\x82\xAC 10 \xF0\x9F\x98\x80 ok")); }

TEST(Utf8, OverlongFormsAreInvalid) {
    EXPECT_FALSE(is_valid_utf8(bytes({0xC0, 0x80})));              // NUL in 2 bytes
    EXPECT_FALSE(is_valid_utf8(bytes({0xC0, 0xAF})));              // '/' in 2 bytes
    EXPECT_FALSE(is_valid_utf8(bytes({0xC1, 0xBF})));              // U+007F in 2 bytes
    EXPECT_FALSE(is_valid_utf8(bytes({0xE0, 0x80, 0x80})));        // NUL in 3 bytes
    EXPECT_FALSE(is_valid_utf8(bytes({0xE0, 0x9F, 0xBF})));        // U+07FF in 3 bytes
    EXPECT_FALSE(is_valid_utf8(bytes({0xF0, 0x80, 0x80, 0x80})));  // NUL in 4 bytes
    EXPECT_FALSE(is_valid_utf8(bytes({0xF0, 0x8F, 0xBF, 0xBF})));  // U+FFFF in 4 bytes
}

TEST(Utf8, SurrogatesAreInvalid) {
    EXPECT_FALSE(is_valid_utf8(bytes({0xED, 0xA0, 0x80})));  // U+D800
    EXPECT_FALSE(is_valid_utf8(bytes({0xED, 0xAF, 0xBF})));  // U+DBFF
    EXPECT_FALSE(is_valid_utf8(bytes({0xED, 0xB0, 0x80})));  // U+DC00
    EXPECT_FALSE(is_valid_utf8(bytes({0xED, 0xBF, 0xBF})));  // U+DFFF
    // A CESU-8 style pair is still invalid.
    EXPECT_FALSE(is_valid_utf8(bytes({0xED, 0xA0, 0xBD, 0xED, 0xB8, 0x80})));
}

TEST(Utf8, AboveMaxCodePointIsInvalid) {
    EXPECT_FALSE(is_valid_utf8(bytes({0xF4, 0x90, 0x80, 0x80})));  // U+110000
    EXPECT_FALSE(is_valid_utf8(bytes({0xF4, 0xBF, 0xBF, 0xBF})));
    EXPECT_FALSE(is_valid_utf8(bytes({0xF5, 0x80, 0x80, 0x80})));
    EXPECT_FALSE(is_valid_utf8(bytes({0xF7, 0xBF, 0xBF, 0xBF})));
    EXPECT_FALSE(is_valid_utf8(bytes({0xF8, 0x88, 0x80, 0x80, 0x80})));  // old 5-byte form
    EXPECT_FALSE(is_valid_utf8(bytes({0xFC, 0x84, 0x80, 0x80, 0x80, 0x80})));
    EXPECT_FALSE(is_valid_utf8(bytes({0xFE})));
    EXPECT_FALSE(is_valid_utf8(bytes({0xFF})));
}

TEST(Utf8, TruncatedAtEndIsInvalid) {
    EXPECT_FALSE(is_valid_utf8(bytes({0xC3})));
    EXPECT_FALSE(is_valid_utf8(bytes({0xE2})));
    EXPECT_FALSE(is_valid_utf8(bytes({0xE2, 0x82})));
    EXPECT_FALSE(is_valid_utf8(bytes({0xF0})));
    EXPECT_FALSE(is_valid_utf8(bytes({0xF0, 0x9F})));
    EXPECT_FALSE(is_valid_utf8(bytes({0xF0, 0x9F, 0x98})));
    EXPECT_FALSE(is_valid_utf8("abc\xC3"));
    EXPECT_FALSE(is_valid_utf8("abcdefghijklmnop\xE2\x82"));
    EXPECT_FALSE(is_valid_utf8("abcdefghijklmnop\xF0\x9F\x98"));
}

TEST(Utf8, TruncatedBeforeAsciiIsInvalid) {
    EXPECT_FALSE(is_valid_utf8("\xC3" "a"));
    EXPECT_FALSE(is_valid_utf8("\xE2\x82" "a"));
    EXPECT_FALSE(is_valid_utf8("\xF0\x9F\x98" "a"));
    EXPECT_FALSE(is_valid_utf8("\xE2" "ab"));
    EXPECT_FALSE(is_valid_utf8("\xF0\x9F" "ab"));
}

TEST(Utf8, StrayContinuationBytesAreInvalid) {
    EXPECT_FALSE(is_valid_utf8(bytes({0x80})));
    EXPECT_FALSE(is_valid_utf8(bytes({0xBF})));
    EXPECT_FALSE(is_valid_utf8("a\x80z"));
    EXPECT_FALSE(is_valid_utf8("\xC3\xA9\xA9"));  // one continuation too many
    EXPECT_FALSE(is_valid_utf8("\xE2\x82\xAC\x80"));
}

TEST(Utf8, BadContinuationInsideSequenceIsInvalid) {
    EXPECT_FALSE(is_valid_utf8(bytes({0xC3, 0x41})));
    EXPECT_FALSE(is_valid_utf8(bytes({0xC3, 0xC3})));
    EXPECT_FALSE(is_valid_utf8(bytes({0xE2, 0x82, 0x41})));
    EXPECT_FALSE(is_valid_utf8(bytes({0xE2, 0x41, 0xAC})));
    EXPECT_FALSE(is_valid_utf8(bytes({0xF0, 0x9F, 0x98, 0x41})));
    EXPECT_FALSE(is_valid_utf8(bytes({0xF0, 0x9F, 0x41, 0x80})));
    EXPECT_FALSE(is_valid_utf8(bytes({0xF0, 0x9F, 0x98, 0xC0})));
}

// The validator skips eight ASCII bytes at a time: every position of a
// multi-byte sequence (or an invalid byte) relative to that stride must give
// the same answer as the scalar path.
TEST(Utf8, FastPathBoundaries) {
    const std::string seqs[] = {"\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80"};
    for (std::size_t prefix = 0; prefix <= 17; ++prefix) {
        for (std::size_t suffix = 0; suffix <= 9; ++suffix) {
            for (const auto& seq : seqs) {
                const std::string ok = std::string(prefix, 'a') + seq + std::string(suffix, 'b');
                EXPECT_TRUE(is_valid_utf8(ok)) << "prefix " << prefix << " suffix " << suffix;
                // The same sequence cut short right before the ASCII suffix.
                const std::string cut = std::string(prefix, 'a') + seq.substr(0, seq.size() - 1) +
                                        std::string(suffix, 'b');
                EXPECT_FALSE(is_valid_utf8(cut)) << "prefix " << prefix << " suffix " << suffix;
            }
            const std::string stray = std::string(prefix, 'a') + "\x80" + std::string(suffix, 'b');
            EXPECT_FALSE(is_valid_utf8(stray)) << "prefix " << prefix << " suffix " << suffix;
            const std::string high = std::string(prefix, 'a') + "\xFF" + std::string(suffix, 'b');
            EXPECT_FALSE(is_valid_utf8(high)) << "prefix " << prefix << " suffix " << suffix;
        }
    }
}

TEST(Utf8, InvalidByteAsLastOfEightAsciiBlock) {
    // 7 ASCII bytes then a high byte: the 8-byte word has its top bit set only
    // in the last lane.
    const std::pair<std::string_view, bool> cases[] = {
        {"abcdefg\x80", false},     {"abcdefg\xC3", false},      {"abcdefg\xC3\xA9", true},
        {"abcdefgh", true},         {"abcdefghabcdefgh", true}, {"abcdefghabcdefg\x80", false},
    };
    for (const auto& [text, valid] : cases) EXPECT_EQ(is_valid_utf8(text), valid) << text;
}

TEST(Utf8, LongMultibyteText) {
    std::string s;
    for (int i = 0; i < 1000; ++i) s += "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80x";
    EXPECT_TRUE(is_valid_utf8(s));
    s[s.size() / 2 + 1] = '\xFF';
    EXPECT_FALSE(is_valid_utf8(s));
}

}  // namespace
