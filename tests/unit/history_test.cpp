// SPDX-License-Identifier: MIT
// The bounded ring of publications kept for resume.

#include "core/history.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <memory>
#include <vector>

namespace {

using notifier::history_page;
using notifier::publication;
using notifier::publication_ptr;
using notifier::core::history;
using status = history_page::status;

publication_ptr pub(std::uint64_t seq) {
    auto p = std::make_shared<publication>();
    p->seq = seq;
    p->collection = "c" + std::to_string(seq);
    return p;
}

void push_range(history& h, std::uint64_t from, std::uint64_t to) {
    for (std::uint64_t s = from; s <= to; ++s) h.push(pub(s));
}

std::vector<std::uint64_t> seqs(const std::vector<publication_ptr>& v) {
    std::vector<std::uint64_t> out;
    for (const auto& p : v) out.push_back(p ? p->seq : 0);
    return out;
}

std::vector<std::uint64_t> range(std::uint64_t from, std::uint64_t to) {
    std::vector<std::uint64_t> out;
    for (std::uint64_t s = from; s <= to; ++s) out.push_back(s);
    return out;
}

// A scenario: a ring of some capacity, then steps run in order. Each read
// starts from an empty output and checks the status and the seqs it got.
struct step {
    enum kind_t { push, reset, size, capacity, first, last, read } kind;
    std::uint64_t a = 0;  // push: from; reset: the seq; read: after; else the value expected
    std::uint64_t b = 0;  // push: to; read: max count
    status want = status::ok;
    std::vector<std::uint64_t> seqs = {};
};

step push(std::uint64_t from, std::uint64_t to) { return {step::push, from, to}; }
step reset(std::uint64_t seq) { return {step::reset, seq}; }
step size(std::uint64_t n) { return {step::size, n}; }
step capacity(std::uint64_t n) { return {step::capacity, n}; }
step first(std::uint64_t seq) { return {step::first, seq}; }
step last(std::uint64_t seq) { return {step::last, seq}; }
step read(std::uint64_t after, std::uint64_t count, status want, std::vector<std::uint64_t> seqs = {}) {
    return {step::read, after, count, want, std::move(seqs)};
}

// A ring of `capacity` and the steps run against it.
struct scenario {
    const char* name;
    std::size_t capacity;
    std::vector<step> steps;
};

using HistoryScenario = ::testing::TestWithParam<scenario>;

TEST_P(HistoryScenario, Steps) {
    history h(GetParam().capacity);
    for (std::size_t i = 0; i < GetParam().steps.size(); ++i) {
        const auto& s = GetParam().steps[i];
        SCOPED_TRACE("step " + std::to_string(i));
        std::vector<publication_ptr> out;
        switch (s.kind) {
            case step::push: push_range(h, s.a, s.b); break;
            case step::reset: h.reset(s.a); break;
            case step::size: EXPECT_EQ(h.size(), s.a); break;
            case step::capacity: EXPECT_EQ(h.capacity(), s.a); break;
            case step::first: ASSERT_EQ(h.first_seq(), s.a); break;
            case step::last: EXPECT_EQ(h.last_seq(), s.a); break;
            case step::read:
                EXPECT_EQ(h.read(s.a, s.b, out), s.want);
                EXPECT_EQ(seqs(out), s.seqs);
                for (const auto& p : out) EXPECT_EQ(p->collection, "c" + std::to_string(p->seq));
                break;
        }
    }
}

INSTANTIATE_TEST_SUITE_P(
    History, HistoryScenario,
    ::testing::Values(
        scenario{"Empty", 4,
                 {size(0), capacity(4), last(0), first(1), read(0, 10, status::ok),
                  read(1, 10, status::future)}},
        scenario{"PushAndReadAll", 10,
                 {push(1, 5), size(5), first(1), last(5), read(0, 100, status::ok, range(1, 5))}},
        scenario{"ReadAtNewestIsOkAndEmpty", 10, {push(1, 3), read(3, 10, status::ok)}},
        scenario{"ReadZeroCount", 10, {push(1, 3), read(0, 0, status::ok)}},
        scenario{"Future", 10,
                 {push(1, 3), read(4, 10, status::future), read(1000, 10, status::future),
                  read(std::numeric_limits<std::uint64_t>::max(), 10, status::future)}},
        scenario{"EvictionMakesOldSeqsGone", 4,
                 {push(1, 10), size(4), first(7), last(10), read(0, 100, status::gone),
                  read(3, 100, status::gone), read(6, 100, status::ok, range(7, 10))}},
        // Read after first_seq - 1: seq first_seq is the next one and is
        // stored; after first_seq - 2: seq first_seq - 1 was evicted.
        scenario{"ExactEvictionBoundary", 5,
                 {push(1, 12), first(8), read(7, 100, status::ok, range(8, 12)), read(6, 100, status::gone)}},
        scenario{"Reset", 4,
                 {push(1, 6), reset(100), size(0), last(100), first(101), read(100, 10, status::ok),
                  read(99, 10, status::gone), read(5, 10, status::gone), read(101, 10, status::future),
                  push(101, 103), size(3), first(101), read(100, 10, status::ok, range(101, 103))}},
        scenario{"ResetToZero", 4,
                 {push(1, 6), reset(0), last(0), first(1), read(0, 10, status::ok), read(3, 10, status::future),
                  push(1, 2), read(0, 10, status::ok, range(1, 2))}},
        scenario{"CapacityOne", 1,
                 {capacity(1), push(1, 1), read(0, 10, status::ok, range(1, 1)), push(2, 2), size(1), first(2),
                  read(0, 10, status::gone), read(1, 10, status::ok, range(2, 2)), read(2, 10, status::ok),
                  read(3, 10, status::future)}},
        scenario{"CapacityZeroKeepsOne", 0, {capacity(1), push(1, 1), read(0, 10, status::ok, range(1, 1))}},
        scenario{"FirstPushMayStartAnywhere", 4,
                 {push(50, 50), first(50), last(50), push(51, 51), read(48, 10, status::gone),
                  read(49, 10, status::ok, range(50, 51))}}),
    [](const ::testing::TestParamInfo<scenario>& info) { return std::string(info.param.name); });

TEST(History, ReadReturnsSharedInstances) {
    history h(4);
    auto p = pub(1);
    h.push(p);
    std::vector<publication_ptr> out;
    ASSERT_EQ(h.read(0, 1, out), status::ok);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].get(), p.get());
}

TEST(History, ReadPages) {
    history h(100);
    push_range(h, 1, 25);
    std::vector<std::uint64_t> got;
    std::uint64_t after = 0;
    int pages = 0;
    while (true) {
        std::vector<publication_ptr> out;
        ASSERT_EQ(h.read(after, 10, out), status::ok);
        if (out.empty()) break;
        EXPECT_LE(out.size(), 10u);
        EXPECT_EQ(out.front()->seq, after + 1);
        for (const auto& p : out) got.push_back(p->seq);
        after = out.back()->seq;
        ++pages;
    }
    EXPECT_EQ(pages, 3);
    EXPECT_EQ(got, range(1, 25));
}

TEST(History, ReadAppendsToOutput) {
    history h(10);
    push_range(h, 1, 4);
    std::vector<publication_ptr> out;
    ASSERT_EQ(h.read(0, 2, out), status::ok);
    ASSERT_EQ(h.read(2, 2, out), status::ok);
    EXPECT_EQ(seqs(out), range(1, 4));
}

TEST(History, ReadWithUnboundedCount) {
    history h(10);
    push_range(h, 1, 5);
    std::vector<publication_ptr> out;
    const auto r = h.read(2, std::numeric_limits<std::size_t>::max(), out);
    EXPECT_EQ(r, status::ok);
    EXPECT_EQ(seqs(out), range(3, 5));
}

TEST(History, RingWrapsManyTimes) {
    history h(3);
    for (std::uint64_t s = 1; s <= 100; ++s) {
        h.push(pub(s));
        std::vector<publication_ptr> out;
        const std::uint64_t first = s > 3 ? s - 2 : 1;
        ASSERT_EQ(h.first_seq(), first) << s;
        ASSERT_EQ(h.read(first - 1, 10, out), status::ok) << s;
        ASSERT_EQ(seqs(out), range(first, s)) << s;
    }
}

TEST(History, ResetReleasesPublications) {
    history h(4);
    auto p = pub(1);
    std::weak_ptr<const publication> w = p;
    h.push(std::move(p));
    EXPECT_FALSE(w.expired());
    h.reset(1);
    EXPECT_TRUE(w.expired());
}

TEST(History, EvictionReleasesPublications) {
    history h(2);
    auto p = pub(1);
    std::weak_ptr<const publication> w = p;
    h.push(std::move(p));
    h.push(pub(2));
    EXPECT_FALSE(w.expired());
    h.push(pub(3));
    EXPECT_TRUE(w.expired());
}

}  // namespace
