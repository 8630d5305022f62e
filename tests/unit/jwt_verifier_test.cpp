// SPDX-License-Identifier: MIT
// Subscriber tokens: HS256 / RS256 / ES256 verification and every refusal
// (docs/security.md). Keys are generated here with OpenSSL's EVP API and
// tokens are signed independently of the verifier under test.

#include "core/jwt_verifier.hpp"

#include <gtest/gtest.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <cstdint>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

namespace {

using notifier::core::base64url_decode;
using notifier::core::base64url_encode;
using notifier::core::jwt_verifier;
using notifier::core::token_claims;
using notifier::core::token_error;

constexpr std::int64_t now = 1'700'000'000;
const std::string secret = "a-shared-secret-of-reasonable-length";

// --- keys and signatures, independent of the code under test ---

struct pkey_deleter {
    void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using pkey_ptr = std::unique_ptr<EVP_PKEY, pkey_deleter>;

pkey_ptr rsa_key(unsigned bits = 2048) {
    pkey_ptr k(EVP_RSA_gen(bits));
    if (!k) throw std::runtime_error("RSA key generation failed");
    return k;
}

pkey_ptr ec_key(const char* curve = "P-256") {
    pkey_ptr k(EVP_EC_gen(curve));
    if (!k) throw std::runtime_error("EC key generation failed");
    return k;
}

pkey_ptr ed25519_key() {
    EVP_PKEY* k = nullptr;
    EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nullptr);
    if (!ctx || EVP_PKEY_keygen_init(ctx) != 1 || EVP_PKEY_keygen(ctx, &k) != 1) {
        EVP_PKEY_CTX_free(ctx);
        throw std::runtime_error("Ed25519 key generation failed");
    }
    EVP_PKEY_CTX_free(ctx);
    return pkey_ptr(k);
}

std::string bio_string(BIO* bio) {
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio, &data);
    std::string out(data, static_cast<std::size_t>(n));
    BIO_free(bio);
    return out;
}

std::string public_pem(EVP_PKEY* k) {
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PUBKEY(bio, k);
    return bio_string(bio);
}

std::string private_pem(EVP_PKEY* k) {
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(bio, k, nullptr, nullptr, 0, nullptr, nullptr);
    return bio_string(bio);
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
         data.size(), mac, &len);
    return std::string(reinterpret_cast<char*>(mac), len);
}

// DER for RS256 / ES256 as OpenSSL produces it.
std::string sign_der(EVP_PKEY* k, std::string_view data) {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    std::size_t len = 0;
    std::string sig;
    if (EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, k) == 1 &&
        EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1) {
        sig.resize(len);
        if (EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                           reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1)
            len = 0;
        sig.resize(len);
    }
    EVP_MD_CTX_free(ctx);
    if (sig.empty()) throw std::runtime_error("signing failed");
    return sig;
}

// JWS ES256 signatures are r || s, 32 bytes each.
std::string der_to_raw(const std::string& der) {
    const auto* p = reinterpret_cast<const unsigned char*>(der.data());
    ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size()));
    if (!sig) throw std::runtime_error("bad DER signature");
    std::string raw(64, '\0');
    BN_bn2binpad(ECDSA_SIG_get0_r(sig), reinterpret_cast<unsigned char*>(raw.data()), 32);
    BN_bn2binpad(ECDSA_SIG_get0_s(sig), reinterpret_cast<unsigned char*>(raw.data()) + 32, 32);
    ECDSA_SIG_free(sig);
    return raw;
}

std::string b64(std::string_view s) { return base64url_encode(s); }

std::string signing_input(std::string_view header, std::string_view payload) {
    return b64(header) + "." + b64(payload);
}

std::string hs256_token(std::string_view payload, std::string_view key = secret,
                        std::string_view header = R"({"alg":"HS256","typ":"JWT"})") {
    const auto in = signing_input(header, payload);
    return in + "." + b64(hmac_sha256(key, in));
}

std::string rs256_token(EVP_PKEY* k, std::string_view payload, std::string_view header = R"({"alg":"RS256","typ":"JWT"})") {
    const auto in = signing_input(header, payload);
    return in + "." + b64(sign_der(k, in));
}

std::string es256_token(EVP_PKEY* k, std::string_view payload, std::string_view header = R"({"alg":"ES256","typ":"JWT"})") {
    const auto in = signing_input(header, payload);
    return in + "." + b64(der_to_raw(sign_der(k, in)));
}

std::string exp_payload(std::int64_t exp, std::string_view read = R"(["forums","posts/7"])") {
    return R"({"sub":"u1","exp":)" + std::to_string(exp) + R"(,"notifier":{"read":)" + std::string(read) + "}}";
}

token_claims accepted(const jwt_verifier& v, std::string_view token, std::int64_t at = now) {
    auto r = v.verify(token, at);
    if (auto* e = std::get_if<token_error>(&r)) {
        ADD_FAILURE() << "refused: " << e->code << " " << e->message << " token " << token;
        return {};
    }
    return std::get<token_claims>(r);
}

std::string refused(const jwt_verifier& v, std::string_view token, std::int64_t at = now) {
    auto r = v.verify(token, at);
    if (!std::holds_alternative<token_error>(r)) {
        ADD_FAILURE() << "accepted: " << token;
        return {};
    }
    const auto& e = std::get<token_error>(r);
    EXPECT_FALSE(e.message.empty()) << e.code;
    return e.code;
}

std::string replace_part(const std::string& token, int index, const std::string& part) {
    const auto d1 = token.find('.');
    const auto d2 = token.find('.', d1 + 1);
    std::string parts[3] = {token.substr(0, d1), token.substr(d1 + 1, d2 - d1 - 1), token.substr(d2 + 1)};
    parts[index] = part;
    return parts[0] + "." + parts[1] + "." + parts[2];
}

// --- base64url ---

TEST(Base64Url, Rfc4648Vectors) {
    const std::pair<std::string, std::string> vectors[] = {
        {"", ""}, {"f", "Zg"}, {"fo", "Zm8"}, {"foo", "Zm9v"}, {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"}};
    for (const auto& [plain, enc] : vectors) {
        EXPECT_EQ(base64url_encode(plain), enc);
        std::string out;
        ASSERT_TRUE(base64url_decode(enc, out)) << enc;
        EXPECT_EQ(out, plain);
    }
}

TEST(Base64Url, UrlAlphabet) {
    EXPECT_EQ(base64url_encode("\xfb\xff\xbf"), "-_-_");
    std::string out;
    ASSERT_TRUE(base64url_decode("-_-_", out));
    EXPECT_EQ(out, "\xfb\xff\xbf");
}

TEST(Base64Url, RefusesOtherAlphabetsPaddingAndBadLengths) {
    std::string out;
    for (const char* bad : {"+/+/", "Zg==", "Zm8=", "Z", "Zm9vY", "Zm 9v", "Zm9v\n", "Zm9v.", "\xc3\xa9"})
        EXPECT_FALSE(base64url_decode(bad, out)) << bad;
}

TEST(Base64Url, RefusesNonCanonicalTrailingBits) {
    std::string out;
    EXPECT_TRUE(base64url_decode("Zg", out));
    EXPECT_FALSE(base64url_decode("Zh", out));   // low 4 bits set
    EXPECT_TRUE(base64url_decode("Zm8", out));
    EXPECT_FALSE(base64url_decode("Zm9", out));  // low 2 bits set
}

TEST(Base64Url, RoundTripsEveryLength) {
    std::mt19937 rng(7);
    for (std::size_t n = 0; n < 200; ++n) {
        std::string s(n, '\0');
        for (auto& c : s) c = static_cast<char>(rng());
        const auto enc = base64url_encode(s);
        EXPECT_EQ(enc.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
                  std::string::npos);
        std::string dec;
        ASSERT_TRUE(base64url_decode(enc, dec)) << n;
        EXPECT_EQ(dec, s);
    }
}

// --- HS256 ---

class Hs256 : public ::testing::Test {
protected:
    std::unique_ptr<jwt_verifier> v = jwt_verifier::hs256(secret);
};

TEST_F(Hs256, ValidTokenGrantsItsReadClaim) {
    EXPECT_EQ(v->alg(), jwt_verifier::algorithm::hs256);
    const auto c = accepted(*v, hs256_token(exp_payload(now + 60)));
    EXPECT_EQ(c.exp, now + 60);
    EXPECT_EQ(c.read, (std::vector<std::string>{"forums", "posts/7"}));
}

TEST_F(Hs256, EmptySecretIsRefused) { EXPECT_THROW(jwt_verifier::hs256(""), std::runtime_error); }

TEST_F(Hs256, WrongSecret) {
    EXPECT_EQ(refused(*v, hs256_token(exp_payload(now + 60), "another-secret-of-the-same-size!!")), "invalid_signature");
    EXPECT_EQ(refused(*v, hs256_token(exp_payload(now + 60), secret + "x")), "invalid_signature");
    EXPECT_EQ(refused(*v, hs256_token(exp_payload(now + 60), secret.substr(1))), "invalid_signature");
}

TEST_F(Hs256, TamperedPayloadHeaderOrSignature) {
    const auto good = hs256_token(exp_payload(now + 60, R"(["posts/7"])"));
    accepted(*v, good);
    // More rights, same signature.
    EXPECT_EQ(refused(*v, replace_part(good, 1, b64(exp_payload(now + 60, R"(["*"])")))), "invalid_signature");
    // Later expiry, same signature.
    EXPECT_EQ(refused(*v, replace_part(good, 1, b64(exp_payload(now + 6000, R"(["posts/7"])")))), "invalid_signature");
    // Same algorithm, different header bytes.
    EXPECT_EQ(refused(*v, replace_part(good, 0, b64(R"({"alg":"HS256"})"))), "invalid_signature");
    // One flipped signature bit; truncated; extended; empty.
    std::string sig;
    ASSERT_TRUE(base64url_decode(good.substr(good.rfind('.') + 1), sig));
    std::string flipped = sig;
    flipped[5] = static_cast<char>(flipped[5] ^ 1);
    EXPECT_EQ(refused(*v, replace_part(good, 2, b64(flipped))), "invalid_signature");
    EXPECT_EQ(refused(*v, replace_part(good, 2, b64(sig.substr(0, 31)))), "invalid_signature");
    EXPECT_EQ(refused(*v, replace_part(good, 2, b64(sig + "x"))), "invalid_signature");
    EXPECT_EQ(refused(*v, replace_part(good, 2, "")), "invalid_signature");
}

TEST_F(Hs256, SignatureOfAnotherTokenDoesNotTransfer) {
    const auto a = hs256_token(exp_payload(now + 60, R"(["a"])"));
    const auto b = hs256_token(exp_payload(now + 60, R"(["b"])"));
    EXPECT_EQ(refused(*v, replace_part(a, 2, b.substr(b.rfind('.') + 1))), "invalid_signature");
}

TEST_F(Hs256, AlgNoneIsRefused) {
    const auto payload = b64(exp_payload(now + 60, R"(["*"])"));
    for (const char* h : {R"({"alg":"none"})", R"({"alg":"None"})", R"({"alg":"NONE"})", R"({"alg":"none","typ":"JWT"})"}) {
        EXPECT_EQ(refused(*v, b64(h) + "." + payload + "."), "wrong_algorithm") << h;
        // Without a signature part at all: not even a JWS.
        EXPECT_EQ(refused(*v, b64(h) + "." + payload), "invalid_token") << h;
    }
    // alg none with a valid HMAC attached is still alg none.
    EXPECT_EQ(refused(*v, hs256_token(exp_payload(now + 60), secret, R"({"alg":"none"})")), "wrong_algorithm");
}

TEST_F(Hs256, OtherAlgorithmsAreRefused) {
    for (const char* h : {R"({"alg":"RS256"})", R"({"alg":"ES256"})", R"({"alg":"HS384"})", R"({"alg":"HS512"})",
                          R"({"alg":"hs256"})", R"({"alg":"HS256 "})", R"({"alg":""})"})
        EXPECT_EQ(refused(*v, hs256_token(exp_payload(now + 60), secret, h)), "wrong_algorithm") << h;
    for (const char* h : {R"({})", R"({"typ":"JWT"})", R"({"alg":null})", R"({"alg":256})", R"({"alg":["HS256"]})"})
        EXPECT_EQ(refused(*v, hs256_token(exp_payload(now + 60), secret, h)), "invalid_token") << h;
}

TEST_F(Hs256, RsaSignedTokenIsRefused) {
    auto k = rsa_key();
    EXPECT_EQ(refused(*v, rs256_token(k.get(), exp_payload(now + 60))), "wrong_algorithm");
    // Claiming HS256 with an RSA signature in place of the MAC.
    EXPECT_EQ(refused(*v, rs256_token(k.get(), exp_payload(now + 60), R"({"alg":"HS256"})")), "invalid_signature");
}

TEST_F(Hs256, CriticalHeaderExtensionsAreRefused) {
    EXPECT_EQ(refused(*v, hs256_token(exp_payload(now + 60), secret, R"({"alg":"HS256","crit":["exp"]})")),
              "invalid_token");
}

TEST_F(Hs256, Expiry) {
    // Exactly at exp the token is expired (RFC 7519: "on or after").
    EXPECT_EQ(refused(*v, hs256_token(exp_payload(now)), now), "expired");
    EXPECT_EQ(refused(*v, hs256_token(exp_payload(now - 3600))), "expired");
    EXPECT_EQ(refused(*v, hs256_token(exp_payload(0))), "expired");
    EXPECT_EQ(refused(*v, hs256_token(exp_payload(-5))), "expired");
    EXPECT_EQ(accepted(*v, hs256_token(exp_payload(now + 1))).exp, now + 1);
}

TEST_F(Hs256, NoExpiryIsAllowedAndReportedAsZero) {
    const auto c = accepted(*v, hs256_token(R"({"notifier":{"read":["a"]}})"));
    EXPECT_EQ(c.exp, 0);
    EXPECT_EQ(c.read, std::vector<std::string>{"a"});
}

TEST_F(Hs256, NotBefore) {
    EXPECT_EQ(refused(*v, hs256_token(R"({"nbf":)" + std::to_string(now + 1) + "}")), "not_yet_valid");
    EXPECT_EQ(refused(*v, hs256_token(R"({"nbf":)" + std::to_string(now + 3600) + "}")), "not_yet_valid");
    accepted(*v, hs256_token(R"({"nbf":)" + std::to_string(now) + "}"));
    accepted(*v, hs256_token(R"({"nbf":)" + std::to_string(now - 10) + "}"));
}

TEST_F(Hs256, LeewayAppliesToExpAndNbf) {
    v->set_leeway(30);
    accepted(*v, hs256_token(exp_payload(now - 29)));
    EXPECT_EQ(refused(*v, hs256_token(exp_payload(now - 30))), "expired");
    accepted(*v, hs256_token(R"({"nbf":)" + std::to_string(now + 30) + "}"));
    EXPECT_EQ(refused(*v, hs256_token(R"({"nbf":)" + std::to_string(now + 31) + "}")), "not_yet_valid");
    // The claims carry the token's own exp, not one moved by the leeway.
    EXPECT_EQ(accepted(*v, hs256_token(exp_payload(now - 10))).exp, now - 10);
}

TEST_F(Hs256, NumericDatesMayBeFractionalOrHuge) {
    EXPECT_EQ(accepted(*v, hs256_token(R"({"exp":1700000060.75})")).exp, now + 60);
    EXPECT_EQ(refused(*v, hs256_token(R"({"exp":1699999999.5})")), "expired");
    // Far-future or far-past dates must neither overflow nor wrap around.
    v->set_leeway(60);
    for (const char* p : {R"({"exp":9223372036854775807})", R"({"exp":18446744073709551615})", R"({"exp":1e300})",
                          R"({"exp":9.3e18})"})
        accepted(*v, hs256_token(p));
    for (const char* p : {R"({"exp":-9223372036854775808})", R"({"exp":-1e300})"})
        EXPECT_EQ(refused(*v, hs256_token(p)), "expired") << p;
    EXPECT_EQ(refused(*v, hs256_token(R"({"nbf":1e300})")), "not_yet_valid");
    accepted(*v, hs256_token(R"({"nbf":-1e300})"));
    // now + leeway saturates instead of wrapping to a negative time.
    accepted(*v, hs256_token(R"({"nbf":9223372036854775807})"), INT64_MAX - 10);
    EXPECT_EQ(refused(*v, hs256_token(R"({"exp":9223372036854775807})"), INT64_MAX), "expired");
}

TEST_F(Hs256, NonNumericDatesAreRefused) {
    for (const char* p : {R"({"exp":"1700000060"})", R"({"exp":null})", R"({"exp":true})", R"({"exp":[1]})"})
        EXPECT_EQ(refused(*v, hs256_token(p)), "invalid_token") << p;
    EXPECT_EQ(refused(*v, hs256_token(R"({"nbf":"0"})")), "invalid_token");
}

TEST_F(Hs256, Issuer) {
    accepted(*v, hs256_token(R"({"iss":"anyone"})"));  // not required: not checked
    v->require_issuer("https://auth.example");
    accepted(*v, hs256_token(R"({"iss":"https://auth.example"})"));
    for (const char* p : {R"({})", R"({"iss":"https://evil.example"})", R"({"iss":"https://auth.example/"})",
                          R"({"iss":"HTTPS://AUTH.EXAMPLE"})", R"({"iss":["https://auth.example"]})", R"({"iss":null})"})
        EXPECT_EQ(refused(*v, hs256_token(p)), "wrong_issuer") << p;
}

TEST_F(Hs256, AudienceStringAndArray) {
    accepted(*v, hs256_token(R"({"aud":"someone-else"})"));  // not required: not checked
    v->require_audience("notifier");
    accepted(*v, hs256_token(R"({"aud":"notifier"})"));
    accepted(*v, hs256_token(R"({"aud":["billing","notifier"]})"));
    accepted(*v, hs256_token(R"({"aud":["notifier"]})"));
    for (const char* p : {R"({})", R"({"aud":"billing"})", R"({"aud":"Notifier"})", R"({"aud":["billing"]})",
                          R"({"aud":[]})", R"({"aud":[["notifier"]]})", R"({"aud":{"notifier":true}})", R"({"aud":null})",
                          R"({"aud":"notifier2"})"})
        EXPECT_EQ(refused(*v, hs256_token(p)), "wrong_audience") << p;
}

TEST_F(Hs256, ReadClaimForms) {
    EXPECT_TRUE(accepted(*v, hs256_token(R"({"sub":"u"})")).read.empty());
    EXPECT_TRUE(accepted(*v, hs256_token(R"({"notifier":{}})")).read.empty());
    EXPECT_TRUE(accepted(*v, hs256_token(R"({"notifier":{"read":[]}})")).read.empty());
    EXPECT_TRUE(accepted(*v, hs256_token(R"({"read":["*"]})")).read.empty());  // only inside "notifier"
    EXPECT_EQ(accepted(*v, hs256_token(R"({"notifier":{"read":["*"],"write":["x"]}})")).read, std::vector<std::string>{"*"});
    for (const char* p : {R"({"notifier":"*"})", R"({"notifier":["*"]})", R"({"notifier":{"read":"*"}})",
                          R"({"notifier":{"read":["a",1]}})", R"({"notifier":{"read":[null]}})",
                          R"({"notifier":{"read":{"a":1}}})"})
        EXPECT_EQ(refused(*v, hs256_token(p)), "invalid_token") << p;
}

TEST_F(Hs256, MalformedTokens) {
    const auto good = hs256_token(exp_payload(now + 60));
    const auto d1 = good.find('.');
    const auto d2 = good.rfind('.');
    for (const std::string& t : {std::string(), std::string("."), std::string(".."), std::string("..."),
                                 good.substr(0, d2),                       // two parts
                                 good + "." + good.substr(d2 + 1),         // four parts
                                 good + ".",                               // four parts, last empty
                                 "x" + good.substr(d1),                    // header "x": bad length
                                 good.substr(0, d1) + ".@@@@" + good.substr(d2),
                                 good.substr(0, d2) + ".Zh",               // non-canonical signature
                                 good.substr(0, d1) + "==" + good.substr(d1),
                                 std::string("not a token at all")})
        EXPECT_EQ(refused(*v, t), "invalid_token") << t;
}

TEST_F(Hs256, NonJsonHeaderOrPayload) {
    const auto body = b64(exp_payload(now + 60));
    auto with_header = [&](std::string_view h) {
        const auto in = b64(h) + "." + body;
        return in + "." + b64(hmac_sha256(secret, in));
    };
    for (const char* h : {"", "HS256", "{", R"(["HS256"])", R"("HS256")", "null", "{\"alg\":\"HS256\"} x"})
        EXPECT_EQ(refused(*v, with_header(h)), "invalid_token") << h;
    // A correctly signed payload that is not a JSON object.
    for (const char* p : {"", "not json", "[1,2]", "42", "{\"exp\":", "{\"exp\":1}{}"})
        EXPECT_EQ(refused(*v, hs256_token(p)), "invalid_token") << p;
}

TEST_F(Hs256, HugeTokens) {
    // Well-formed and correctly signed, but far too large to be a real token.
    std::string read = "[";
    for (int i = 0; i < 2000; ++i) read += (i ? ",\"c" : "\"c") + std::to_string(i) + "\"";
    read += "]";
    EXPECT_EQ(refused(*v, hs256_token(exp_payload(now + 60, read))), "invalid_token");
    EXPECT_EQ(refused(*v, std::string(1 << 20, 'A')), "invalid_token");
    // Just under the limit is still parsed normally.
    std::string padded = R"({"pad":")" + std::string(5000, 'p') + R"(","notifier":{"read":["x"]}})";
    EXPECT_EQ(accepted(*v, hs256_token(padded)).read, std::vector<std::string>{"x"});
}

TEST_F(Hs256, DeeplyNestedJsonIsRefusedNotCrashing) {
    std::string deep(3000, '[');
    EXPECT_EQ(refused(*v, hs256_token(R"({"x":)" + deep + "}")), "invalid_token");
}

// --- RS256 ---

// Keys made once per suite: the verifier's, another of the same kind, and
// one of the other kind.
enum class key_kind { rsa, ec };

pkey_ptr make_key(key_kind k) { return k == key_kind::rsa ? rsa_key() : ec_key(); }

template <key_kind kind, key_kind foreign>
class signed_by_key : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        key_ = make_key(kind).release();
        other_ = make_key(kind).release();
        foreign_ = make_key(foreign).release();
    }
    static void TearDownTestSuite() {
        EVP_PKEY_free(key_);
        EVP_PKEY_free(other_);
        EVP_PKEY_free(foreign_);
    }
    static inline EVP_PKEY *key_ = nullptr, *other_ = nullptr, *foreign_ = nullptr;
    std::unique_ptr<jwt_verifier> v = jwt_verifier::from_public_key_pem(public_pem(key_));
};

using Rs256 = signed_by_key<key_kind::rsa, key_kind::ec>;

TEST_F(Rs256, ValidToken) {
    EXPECT_EQ(v->alg(), jwt_verifier::algorithm::rs256);
    const auto c = accepted(*v, rs256_token(key_, exp_payload(now + 60)));
    EXPECT_EQ(c.exp, now + 60);
    EXPECT_EQ(c.read, (std::vector<std::string>{"forums", "posts/7"}));
}

TEST_F(Rs256, SignedByAnotherKey) {
    EXPECT_EQ(refused(*v, rs256_token(other_, exp_payload(now + 60))), "invalid_signature");
}

TEST_F(Rs256, TamperedPayload) {
    const auto good = rs256_token(key_, exp_payload(now + 60, R"(["posts/7"])"));
    EXPECT_EQ(refused(*v, replace_part(good, 1, b64(exp_payload(now + 60, R"(["*"])")))), "invalid_signature");
    std::string sig;
    ASSERT_TRUE(base64url_decode(good.substr(good.rfind('.') + 1), sig));
    sig.back() = static_cast<char>(sig.back() ^ 0x40);
    EXPECT_EQ(refused(*v, replace_part(good, 2, b64(sig))), "invalid_signature");
    EXPECT_EQ(refused(*v, replace_part(good, 2, "")), "invalid_signature");
}

TEST_F(Rs256, HmacWithThePublicKeyAsSecretIsRefused) {
    // The classic confusion: the attacker knows the public key and uses its
    // PEM text (with or without the final newline) as an HMAC secret.
    const auto pem = public_pem(key_);
    for (const std::string& k : {pem, pem.substr(0, pem.size() - 1)}) {
        EXPECT_EQ(refused(*v, hs256_token(exp_payload(now + 60, R"(["*"])"), k)), "wrong_algorithm");
        // Same MAC under an RS256 header: not an RSA signature.
        EXPECT_EQ(refused(*v, hs256_token(exp_payload(now + 60, R"(["*"])"), k, R"({"alg":"RS256"})")),
                  "invalid_signature");
    }
}

TEST_F(Rs256, OtherAlgorithmsAreRefused) {
    EXPECT_EQ(refused(*v, es256_token(foreign_, exp_payload(now + 60))), "wrong_algorithm");
    EXPECT_EQ(refused(*v, rs256_token(key_, exp_payload(now + 60), R"({"alg":"PS256"})")), "wrong_algorithm");
    EXPECT_EQ(refused(*v, rs256_token(key_, exp_payload(now + 60), R"({"alg":"RS512"})")), "wrong_algorithm");
    EXPECT_EQ(refused(*v, b64(R"({"alg":"none"})") + "." + b64(exp_payload(now + 60)) + "."), "wrong_algorithm");
}

TEST_F(Rs256, ClaimsChecksApply) {
    v->require_issuer("iss-1");
    v->require_audience("aud-1");
    accepted(*v, rs256_token(key_, R"({"iss":"iss-1","aud":["x","aud-1"]})"));
    EXPECT_EQ(refused(*v, rs256_token(key_, R"({"iss":"iss-2","aud":"aud-1"})")), "wrong_issuer");
    EXPECT_EQ(refused(*v, rs256_token(key_, R"({"iss":"iss-1","aud":"aud-2"})")), "wrong_audience");
    EXPECT_EQ(refused(*v, rs256_token(key_, exp_payload(now - 100))), "expired");
}

// --- ES256 ---

using Es256 = signed_by_key<key_kind::ec, key_kind::rsa>;

TEST_F(Es256, ValidToken) {
    EXPECT_EQ(v->alg(), jwt_verifier::algorithm::es256);
    // ECDSA signatures are randomised: several, so short r or s (leading
    // zero bytes) are likely exercised over runs.
    for (int i = 0; i < 20; ++i) {
        const auto c = accepted(*v, es256_token(key_, exp_payload(now + 60 + i)));
        EXPECT_EQ(c.exp, now + 60 + i);
    }
}

TEST_F(Es256, SignedByAnotherKey) {
    EXPECT_EQ(refused(*v, es256_token(other_, exp_payload(now + 60))), "invalid_signature");
}

TEST_F(Es256, DerSignatureIsNotAJwsSignature) {
    const auto in = signing_input(R"({"alg":"ES256"})", exp_payload(now + 60));
    EXPECT_EQ(refused(*v, in + "." + b64(sign_der(key_, in))), "invalid_signature");
}

TEST_F(Es256, MalformedSignatures) {
    const auto good = es256_token(key_, exp_payload(now + 60));
    std::string sig;
    ASSERT_TRUE(base64url_decode(good.substr(good.rfind('.') + 1), sig));
    ASSERT_EQ(sig.size(), 64u);
    EXPECT_EQ(refused(*v, replace_part(good, 2, b64(sig.substr(0, 63)))), "invalid_signature");
    EXPECT_EQ(refused(*v, replace_part(good, 2, b64(sig + '\0'))), "invalid_signature");
    EXPECT_EQ(refused(*v, replace_part(good, 2, b64(std::string(64, '\0')))), "invalid_signature");
    EXPECT_EQ(refused(*v, replace_part(good, 2, b64(std::string(64, '\xff')))), "invalid_signature");
    // r and s swapped.
    EXPECT_EQ(refused(*v, replace_part(good, 2, b64(sig.substr(32) + sig.substr(0, 32)))), "invalid_signature");
    EXPECT_EQ(refused(*v, replace_part(good, 2, "")), "invalid_signature");
}

TEST_F(Es256, TamperedPayload) {
    const auto good = es256_token(key_, exp_payload(now + 60, R"(["posts/7"])"));
    EXPECT_EQ(refused(*v, replace_part(good, 1, b64(exp_payload(now + 60, R"(["posts"])")))), "invalid_signature");
}

TEST_F(Es256, OtherAlgorithmsAreRefused) {
    EXPECT_EQ(refused(*v, rs256_token(foreign_, exp_payload(now + 60))), "wrong_algorithm");
    EXPECT_EQ(refused(*v, hs256_token(exp_payload(now + 60), public_pem(key_))), "wrong_algorithm");
    EXPECT_EQ(refused(*v, es256_token(key_, exp_payload(now + 60), R"({"alg":"ES384"})")), "wrong_algorithm");
}

// --- public keys ---

TEST(PublicKey, RefusesWhatIsNotAUsablePublicKey) {
    EXPECT_THROW(jwt_verifier::from_public_key_pem(""), std::runtime_error);
    EXPECT_THROW(jwt_verifier::from_public_key_pem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"),
                 std::runtime_error);
    EXPECT_THROW(jwt_verifier::from_public_key_pem(secret), std::runtime_error);
    // A private key file is not accepted in place of the public key.
    auto k = ec_key();
    EXPECT_THROW(jwt_verifier::from_public_key_pem(private_pem(k.get())), std::runtime_error);
}

TEST(PublicKey, RefusesWeakOrUnsupportedKeys) {
    auto short_rsa = rsa_key(1024);
    EXPECT_THROW(jwt_verifier::from_public_key_pem(public_pem(short_rsa.get())), std::runtime_error);
    auto p384 = ec_key("P-384");
    EXPECT_THROW(jwt_verifier::from_public_key_pem(public_pem(p384.get())), std::runtime_error);
    auto ed = ed25519_key();
    EXPECT_THROW(jwt_verifier::from_public_key_pem(public_pem(ed.get())), std::runtime_error);
}

TEST(PublicKey, AlgorithmFollowsTheKeyType) {
    auto rsa = rsa_key(3072);
    EXPECT_EQ(jwt_verifier::from_public_key_pem(public_pem(rsa.get()))->alg(), jwt_verifier::algorithm::rs256);
    auto ec = ec_key();
    EXPECT_EQ(jwt_verifier::from_public_key_pem(public_pem(ec.get()))->alg(), jwt_verifier::algorithm::es256);
}

}  // namespace
