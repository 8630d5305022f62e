// SPDX-License-Identifier: MIT
// The pgoutput decoder and the row encoder: bytes as a PostgreSQL 15
// walsender sends them, built by hand, and the notifications they become.

#include "source/postgres/pgoutput_decoder.hpp"
#include "source/postgres/row_encoder.hpp"

#include <notifier/notification.hpp>

#include <gtest/gtest.h>

#include <string>

namespace notifier::pg {
namespace {

// A big-endian message builder.
struct bytes {
    std::string s;
    bytes& c(char v) { s.push_back(v); return *this; }
    bytes& u(std::uint64_t v, int n) {
        for (int i = n - 1; i >= 0; --i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
        return *this;
    }
    bytes& str(const std::string& v) { s += v; s.push_back('\0'); return *this; }
    bytes& text(const std::string& v) { c('t'); u(v.size(), 4); s += v; return *this; }
};

relation forums_relation() {
    bytes b;
    b.c('R').u(16385, 4).str("public").str("forums").c('d').u(3, 2);
    b.c(1).str("id").u(23, 4).u(0xffffffff, 4);
    b.c(0).str("name").u(25, 4).u(0xffffffff, 4);
    b.c(0).str("body").u(25, 4).u(0xffffffff, 4);
    std::string error;
    auto m = decode_message(b.s, error);
    EXPECT_TRUE(m) << error;
    return std::get<relation>(*m);
}

const watched_table forums{"public", "forums", "forums", {"id"}};

TEST(Lsn, FormatsAndParsesLikeTheServer) {
    EXPECT_EQ(format_lsn(0x16B374D848ull), "16/B374D848");
    EXPECT_EQ(format_lsn(0), "0/0");
    EXPECT_EQ(parse_lsn("16/B374D848"), 0x16B374D848ull);
    EXPECT_FALSE(parse_lsn("16B374D848"));
    EXPECT_FALSE(parse_lsn("/1"));
    EXPECT_FALSE(parse_lsn("1/"));
    EXPECT_FALSE(parse_lsn("1/x"));
}

TEST(Envelope, XLogDataKeepaliveAndStatusUpdate) {
    std::string error;
    bytes w;
    w.c('w').u(100, 8).u(200, 8).u(7, 8).s += "payload";
    auto e = decode_envelope(w.s, error);
    ASSERT_TRUE(e);
    const auto& d = std::get<xlog_data>(*e);
    EXPECT_EQ(d.start, 100u);
    EXPECT_EQ(d.wal_end, 200u);
    EXPECT_EQ(d.payload, "payload");

    bytes k;
    k.c('k').u(300, 8).u(9, 8).c(1);
    e = decode_envelope(k.s, error);
    ASSERT_TRUE(e);
    EXPECT_EQ(std::get<keepalive>(*e).wal_end, 300u);
    EXPECT_TRUE(std::get<keepalive>(*e).reply_requested);

    EXPECT_FALSE(decode_envelope(k.s.substr(0, 10), error));
    EXPECT_FALSE(decode_envelope("x", error));
    EXPECT_FALSE(decode_envelope("", error));

    const auto r = encode_status_update(0x10, 0x20, 5, true);
    ASSERT_EQ(r.size(), 34u);
    EXPECT_EQ(r[0], 'r');
    EXPECT_EQ(r[8], 0x10);   // written
    EXPECT_EQ(r[16], 0x20);  // flushed
    EXPECT_EQ(r[24], 0x20);  // applied
    EXPECT_EQ(r[33], 1);
}

TEST(Pgoutput, BeginCommitRelation) {
    std::string error;
    bytes b;
    b.c('B').u(0x500, 8).u(1234, 8).u(77, 4);
    auto m = decode_message(b.s, error);
    ASSERT_TRUE(m) << error;
    EXPECT_EQ(std::get<begin>(*m).final_lsn, 0x500u);
    EXPECT_EQ(std::get<begin>(*m).xid, 77u);

    bytes c;
    c.c('C').c(0).u(0x500, 8).u(0x530, 8).u(1234, 8);
    m = decode_message(c.s, error);
    ASSERT_TRUE(m) << error;
    EXPECT_EQ(std::get<commit>(*m).end_lsn, 0x530u);

    const auto rel = forums_relation();
    EXPECT_EQ(rel.name, "forums");
    ASSERT_EQ(rel.columns.size(), 3u);
    EXPECT_TRUE(rel.columns[0].key);
    EXPECT_EQ(rel.columns[1].type_oid, 25u);
}

TEST(Pgoutput, MalformedMessagesAreErrorsNotCrashes) {
    std::string error;
    for (std::string bad : {std::string("B\x01"), std::string("Q"), std::string(""), std::string("R\0\0\0\1pub", 8),
                            std::string("I\0\0\0\1N\0\1t\0\0\0\x09x", 15), std::string("D\0\0\0\1X", 6),
                            std::string("T\xff\xff\xff\xff\0", 6)}) {
        error.clear();
        EXPECT_FALSE(decode_message(bad, error)) << "accepted " << bad.size() << " bytes";
        EXPECT_FALSE(error.empty());
    }
    bytes trailing;
    trailing.c('B').u(1, 8).u(1, 8).u(1, 4).c('x');
    EXPECT_FALSE(decode_message(trailing.s, error));
}

/// The notifications of one change message, the table described by `rel`.
std::vector<notification> encode_as(const relation& rel, const std::string& msg, std::size_t max_data = 1 << 20) {
    std::string error;
    auto m = decode_message(msg, error);
    EXPECT_TRUE(m) << error;
    std::vector<notification> out;
    if (m) row_encoder(max_data).encode(forums, rel, std::get<change>(*m), out);
    return out;
}

std::vector<notification> encode(const std::string& msg, std::size_t max_data = 1 << 20) {
    return encode_as(forums_relation(), msg, max_data);
}

TEST(RowEncoder, InsertIsCreateWithTheRowAsJson) {
    bytes b;
    b.c('I').u(16385, 4).c('N').u(3, 2).text("7").text("General \"x\"\n").c('n');
    const auto out = encode(b.s);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].collection, "forums");
    EXPECT_EQ(out[0].action, "create");
    EXPECT_EQ(out[0].id, "7");
    EXPECT_EQ(out[0].data, R"({"id":7,"name":"General \"x\"\n","body":null})");
    EXPECT_FALSE(validate(out[0]));
}

TEST(RowEncoder, UpdateLeavesOutUnchangedToastAndDeleteCarriesTheKey) {
    bytes u;
    u.c('U').u(16385, 4).c('N').u(3, 2).text("7").text("renamed").c('u');
    auto out = encode(u.s);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].action, "update");
    EXPECT_EQ(out[0].data, R"({"id":7,"name":"renamed"})");

    bytes d;
    d.c('D').u(16385, 4).c('K').u(3, 2).text("7").c('n').c('n');
    out = encode(d.s);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].action, "delete");
    EXPECT_EQ(out[0].id, "7");
    EXPECT_EQ(out[0].data, R"({"id":7})");
}

TEST(RowEncoder, ARenamedKeyColumnIsFoundByTheRelationsKeyFlags) {
    // ALTER TABLE forums RENAME COLUMN id TO forum_id: the relation message
    // has the new name, the names read at connect the old one.
    auto rel = forums_relation();
    rel.columns[0].name = "forum_id";
    bytes d;
    d.c('D').u(16385, 4).c('K').u(3, 2).text("7").c('n').c('n');
    const auto out = encode_as(rel, d.s);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].action, "delete");
    EXPECT_EQ(out[0].id, "7");
}

TEST(RowEncoder, AChangedKeyIsADeleteThenACreate) {
    bytes u;
    u.c('U').u(16385, 4).c('K').u(3, 2).text("7").c('n').c('n').c('N').u(3, 2).text("8").text("n").text("b");
    const auto out = encode(u.s);
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[0].action, "delete");
    EXPECT_EQ(out[0].id, "7");
    EXPECT_FALSE(out[0].data);
    EXPECT_EQ(out[1].action, "create");
    EXPECT_EQ(out[1].id, "8");
}

TEST(RowEncoder, AnUpdateWithoutAnOldRowHasNoOld) {
    // The default replica identity and an unchanged key: the server sends no old row.
    bytes u;
    u.c('U').u(16385, 4).c('N').u(3, 2).text("7").text("renamed").c('n');
    const auto out = encode(u.s);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].action, "update");
    EXPECT_FALSE(out[0].old);
}

TEST(RowEncoder, AFullOldRowIsOldEncodedAsDataIs) {
    // REPLICA IDENTITY FULL: 'O' and the whole old row. The new row's
    // unchanged TOAST column is filled from it, as before.
    bytes u;
    u.c('U').u(16385, 4).c('O').u(3, 2).text("7").text("General \"x\"").text("long body");
    u.c('N').u(3, 2).text("7").text("renamed").c('u');
    const auto out = encode(u.s);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].action, "update");
    EXPECT_EQ(out[0].id, "7");
    EXPECT_EQ(out[0].data, R"({"id":7,"name":"renamed","body":"long body"})");
    EXPECT_EQ(out[0].old, R"({"id":7,"name":"General \"x\"","body":"long body"})");
    EXPECT_FALSE(validate(out[0]));
}

TEST(RowEncoder, OldLeavesOutUnchangedToastAndKeepsNullsAsNull) {
    bytes u;
    u.c('U').u(16385, 4).c('O').u(3, 2).text("7").c('n').c('u');
    u.c('N').u(3, 2).text("7").text("named").c('u');
    auto out = encode(u.s);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].old, R"({"id":7,"name":null})");  // body unknown: absent, not null
    EXPECT_EQ(out[0].data, R"({"id":7,"name":"named"})");

    bytes d;
    d.c('D').u(16385, 4).c('O').u(3, 2).text("7").c('n').c('u');
    out = encode(d.s);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].old, R"({"id":7,"name":null})");
}

TEST(RowEncoder, ADeleteCarriesItsOldRowAsOldBesideData) {
    bytes full;
    full.c('D').u(16385, 4).c('O').u(3, 2).text("7").text("General").text("b");
    auto out = encode(full.s);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].action, "delete");
    EXPECT_EQ(out[0].id, "7");
    EXPECT_EQ(out[0].data, R"({"id":7,"name":"General","body":"b"})");
    EXPECT_EQ(out[0].old, R"({"id":7,"name":"General","body":"b"})");
    EXPECT_FALSE(validate(out[0]));

    // By key: the other columns are placeholders, not NULLs: left out.
    bytes key;
    key.c('D').u(16385, 4).c('K').u(3, 2).text("7").c('n').c('n');
    out = encode(key.s);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].data, R"({"id":7})");
    EXPECT_EQ(out[0].old, R"({"id":7})");
}

TEST(RowEncoder, TheDeleteOfAChangedKeyCarriesTheOldRow) {
    bytes key;
    key.c('U').u(16385, 4).c('K').u(3, 2).text("7").c('n').c('n').c('N').u(3, 2).text("8").text("n").text("b");
    auto out = encode(key.s);
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[0].action, "delete");
    EXPECT_EQ(out[0].old, R"({"id":7})");
    EXPECT_FALSE(out[1].old);

    bytes full;
    full.c('U').u(16385, 4).c('O').u(3, 2).text("7").text("m").text("a").c('N').u(3, 2).text("8").text("n").text("b");
    out = encode(full.s);
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[0].action, "delete");
    EXPECT_EQ(out[0].id, "7");
    EXPECT_FALSE(out[0].data);
    EXPECT_EQ(out[0].old, R"({"id":7,"name":"m","body":"a"})");
    EXPECT_EQ(out[1].action, "create");
    EXPECT_EQ(out[1].data, R"({"id":8,"name":"n","body":"b"})");
    EXPECT_FALSE(out[1].old);
}

TEST(RowEncoder, AnOldRowAboveTheLimitIsLeftOutNotCutAndDataWithIt) {
    bytes u;
    u.c('U').u(16385, 4).c('O').u(3, 2).text("7").text(std::string(100, 'x')).c('n');
    u.c('N').u(3, 2).text("7").text("short").c('n');
    const auto out = encode(u.s, 64);
    ASSERT_EQ(out.size(), 1u);
    // With data alone, a filter the row left could not see it leave: the
    // update goes with neither, which every filter of the table matches.
    EXPECT_FALSE(out[0].data);
    EXPECT_TRUE(out[0].data_omitted);
    EXPECT_FALSE(out[0].old);
    EXPECT_FALSE(validate(out[0]));
}

TEST(RowEncoder, WithFullIdentityARenamedKeyColumnLeavesTheIdOut) {
    // REPLICA IDENTITY FULL flags every column: the flags do not name the
    // key, and "7,x,y" would be a wrong id.
    auto rel = forums_relation();
    rel.replica_identity = 'f';
    for (auto& col : rel.columns) col.key = true;
    rel.columns[0].name = "forum_id";
    bytes d;
    d.c('D').u(16385, 4).c('O').u(3, 2).text("7").text("x").text("y");
    const auto out = encode_as(rel, d.s);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_FALSE(out[0].id);
    EXPECT_EQ(out[0].old, R"({"forum_id":7,"name":"x","body":"y"})");
}

TEST(RowEncoder, DataAboveTheLimitIsOmittedAndSaysSo) {
    bytes b;
    b.c('I').u(16385, 4).c('N').u(3, 2).text("7").text(std::string(100, 'x')).c('n');
    const auto out = encode(b.s, 64);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_FALSE(out[0].data);
    EXPECT_TRUE(out[0].data_omitted);
    EXPECT_EQ(out[0].id, "7");
}

TEST(RowEncoder, ValuesByType) {
    auto json = [](std::uint32_t oid, std::string_view text) {
        std::string out;
        row_encoder::append_value(out, oid, text);
        return out;
    };
    EXPECT_EQ(json(16, "t"), "true");
    EXPECT_EQ(json(16, "f"), "false");
    EXPECT_EQ(json(20, "-9007199254740993"), "-9007199254740993");
    EXPECT_EQ(json(701, "1.5e+30"), "1.5e+30");
    EXPECT_EQ(json(701, "NaN"), "\"NaN\"");
    EXPECT_EQ(json(701, "-Infinity"), "\"-Infinity\"");
    EXPECT_EQ(json(1700, "12.50"), "12.50");
    EXPECT_EQ(json(3802, R"({"a": 1})"), R"({"a": 1})");
    EXPECT_EQ(json(1184, "2026-11-28 08:00:00+00"), "\"2026-11-28 08:00:00+00\"");
    EXPECT_EQ(json(25, "caf\xc3\xa9"), "\"caf\xc3\xa9\"");
    EXPECT_EQ(json(25, "bad \xff"), "\"bad ?\"");  // a non-UTF-8 database: still valid JSON
}

}  // namespace
}  // namespace notifier::pg
