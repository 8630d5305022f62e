// SPDX-License-Identifier: MIT
#include "core/jwt_verifier.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include <algorithm>
#include <cstdint>
#include <stdexcept>

namespace notifier::core {

namespace json = boost::json;

struct jwt_verifier::key {
    std::string secret;           // HS256
    EVP_PKEY* pkey = nullptr;     // RS256 / ES256
    ~key() { EVP_PKEY_free(pkey); }
};

namespace {

int b64url_value(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
}

// A JWT signature for ES256 is r || s (32 bytes each); OpenSSL wants DER.
bool es256_raw_to_der(const std::string& raw, std::string& der) {
    if (raw.size() != 64) return false;
    ECDSA_SIG* sig = ECDSA_SIG_new();
    if (!sig) return false;
    BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()), 32, nullptr);
    BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()) + 32, 32, nullptr);
    if (!r || !s || ECDSA_SIG_set0(sig, r, s) != 1) {
        BN_free(r);
        BN_free(s);
        ECDSA_SIG_free(sig);
        return false;
    }
    unsigned char* out = nullptr;
    const int n = i2d_ECDSA_SIG(sig, &out);
    ECDSA_SIG_free(sig);
    if (n <= 0) return false;
    der.assign(reinterpret_cast<char*>(out), static_cast<std::size_t>(n));
    OPENSSL_free(out);
    return true;
}

const char* alg_name(jwt_verifier::algorithm a) {
    switch (a) {
        case jwt_verifier::algorithm::hs256: return "HS256";
        case jwt_verifier::algorithm::rs256: return "RS256";
        case jwt_verifier::algorithm::es256: return "ES256";
    }
    return "?";
}

std::variant<token_claims, token_error> fail(std::string code, std::string message) {
    return token_error{std::move(code), std::move(message)};
}

// NumericDate (RFC 7519 section 2): integer or fractional seconds.
bool numeric_date(const json::value& v, std::int64_t& out) {
    if (v.is_int64()) { out = v.get_int64(); return true; }
    if (v.is_uint64()) { out = static_cast<std::int64_t>(std::min<std::uint64_t>(v.get_uint64(), INT64_MAX)); return true; }
    if (v.is_double()) {
        // Converting a double outside the range of int64 is undefined: clamp.
        const double d = v.get_double();
        if (d >= 9.2e18) out = INT64_MAX;
        else if (d <= -9.2e18) out = INT64_MIN;
        else out = static_cast<std::int64_t>(d);
        return true;
    }
    return false;
}

// exp/nbf come from the token: an exp near INT64_MAX plus the leeway must
// not overflow.
std::int64_t saturating_add(std::int64_t a, std::int64_t b) {
    std::int64_t r = 0;
    if (__builtin_add_overflow(a, b, &r)) return b > 0 ? INT64_MAX : INT64_MIN;
    return r;
}

}  // namespace

bool base64url_decode(std::string_view in, std::string& out) {
    out.clear();
    if (in.size() % 4 == 1) return false;
    out.reserve(in.size() * 3 / 4);
    std::uint32_t acc = 0;
    int bits = 0;
    for (const char c : in) {
        const int v = b64url_value(c);
        if (v < 0) return false;
        acc = (acc << 6) | static_cast<std::uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<char>((acc >> bits) & 0xFF));
        }
    }
    // Leftover bits must be zero (canonical encoding).
    return (acc & ((1u << bits) - 1)) == 0;
}

std::string base64url_encode(std::string_view in) {
    static constexpr char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string out;
    std::uint32_t acc = 0;
    int bits = 0;
    for (const char c : in) {
        acc = (acc << 8) | static_cast<unsigned char>(c);
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out.push_back(tbl[(acc >> bits) & 63]);
        }
    }
    if (bits > 0) out.push_back(tbl[(acc << (6 - bits)) & 63]);
    return out;
}

jwt_verifier::jwt_verifier(algorithm a, std::unique_ptr<key> k) : alg_(a), key_(std::move(k)) {}
jwt_verifier::~jwt_verifier() = default;

std::unique_ptr<jwt_verifier> jwt_verifier::hs256(std::string secret) {
    if (secret.empty()) throw std::runtime_error("the HS256 secret is empty");
    auto k = std::make_unique<key>();
    k->secret = std::move(secret);
    return std::unique_ptr<jwt_verifier>(new jwt_verifier(algorithm::hs256, std::move(k)));
}

std::unique_ptr<jwt_verifier> jwt_verifier::from_public_key_pem(std::string_view pem) {
    BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
    if (!bio) throw std::runtime_error("out of memory");
    EVP_PKEY* pkey = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    if (!pkey) throw std::runtime_error("not a PEM public key (expected -----BEGIN PUBLIC KEY-----)");
    auto k = std::make_unique<key>();
    k->pkey = pkey;
    const int type = EVP_PKEY_get_base_id(pkey);
    if (type == EVP_PKEY_RSA) {
        if (EVP_PKEY_get_bits(pkey) < 2048) throw std::runtime_error("RSA keys shorter than 2048 bits are refused");
        return std::unique_ptr<jwt_verifier>(new jwt_verifier(algorithm::rs256, std::move(k)));
    }
    if (type == EVP_PKEY_EC) {
        char group[64] = {};
        std::size_t len = 0;
        EVP_PKEY_get_group_name(pkey, group, sizeof group, &len);
        if (std::string_view(group, len) != "prime256v1")
            throw std::runtime_error("EC keys must be on P-256 (ES256), got " + std::string(group, len));
        return std::unique_ptr<jwt_verifier>(new jwt_verifier(algorithm::es256, std::move(k)));
    }
    throw std::runtime_error("unsupported key type: use an RSA (RS256) or P-256 EC (ES256) public key");
}

bool jwt_verifier::check_signature(std::string_view signed_part, const std::string& sig) const {
    if (alg_ == algorithm::hs256) {
        unsigned char mac[EVP_MAX_MD_SIZE];
        unsigned int len = 0;
        if (!HMAC(EVP_sha256(), key_->secret.data(), static_cast<int>(key_->secret.size()),
                  reinterpret_cast<const unsigned char*>(signed_part.data()), signed_part.size(), mac, &len))
            return false;
        return sig.size() == len && CRYPTO_memcmp(mac, sig.data(), len) == 0;
    }
    std::string der;
    const std::string* s = &sig;
    if (alg_ == algorithm::es256) {
        if (!es256_raw_to_der(sig, der)) return false;
        s = &der;
    }
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    if (!ctx) return false;
    bool ok = EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key_->pkey) == 1 &&
              EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(s->data()), s->size(),
                               reinterpret_cast<const unsigned char*>(signed_part.data()), signed_part.size()) == 1;
    EVP_MD_CTX_free(ctx);
    return ok;
}

std::variant<token_claims, token_error> jwt_verifier::verify(std::string_view token, std::int64_t now) const {
    if (token.size() > 8192) return fail("invalid_token", "token longer than 8192 bytes");
    const auto d1 = token.find('.');
    const auto d2 = d1 == std::string_view::npos ? d1 : token.find('.', d1 + 1);
    if (d2 == std::string_view::npos || token.find('.', d2 + 1) != std::string_view::npos)
        return fail("invalid_token", "a token has three base64url parts separated by dots");
    std::string header_raw, payload_raw, sig;
    if (!base64url_decode(token.substr(0, d1), header_raw) ||
        !base64url_decode(token.substr(d1 + 1, d2 - d1 - 1), payload_raw) ||
        !base64url_decode(token.substr(d2 + 1), sig))
        return fail("invalid_token", "token parts are not base64url");

    boost::system::error_code ec;
    json::value header = json::parse(header_raw, ec);
    if (ec || !header.is_object()) return fail("invalid_token", "token header is not a JSON object");
    const auto* alg = header.as_object().if_contains("alg");
    if (!alg || !alg->is_string()) return fail("invalid_token", "token header has no alg");
    // The configured algorithm only: never "none", never HS256 with a public key.
    if (alg->get_string() != alg_name(alg_))
        return fail("wrong_algorithm", std::string("token must be signed with ") + alg_name(alg_));
    if (header.as_object().contains("crit")) return fail("invalid_token", "critical header extensions are not supported");

    if (!check_signature(token.substr(0, d2), sig)) return fail("invalid_signature", "token signature does not verify");

    json::value payload = json::parse(payload_raw, ec);
    if (ec || !payload.is_object()) return fail("invalid_token", "token payload is not a JSON object");
    const auto& claims = payload.as_object();
    token_claims out;
    if (const auto* exp = claims.if_contains("exp")) {
        if (!numeric_date(*exp, out.exp)) return fail("invalid_token", "exp is not a number");
        if (now >= saturating_add(out.exp, leeway_)) return fail("expired", "token expired");
    }
    if (const auto* nbf = claims.if_contains("nbf")) {
        std::int64_t t = 0;
        if (!numeric_date(*nbf, t)) return fail("invalid_token", "nbf is not a number");
        if (saturating_add(now, leeway_) < t) return fail("not_yet_valid", "token not valid yet (nbf)");
    }
    if (!issuer_.empty()) {
        const auto* iss = claims.if_contains("iss");
        if (!iss || !iss->is_string() || iss->get_string() != issuer_) return fail("wrong_issuer", "token issuer not accepted");
    }
    if (!audience_.empty()) {
        const auto* aud = claims.if_contains("aud");
        bool ok = false;
        if (aud && aud->is_string()) ok = aud->get_string() == audience_;
        if (aud && aud->is_array())
            for (const auto& a : aud->get_array()) ok = ok || (a.is_string() && a.get_string() == audience_);
        if (!ok) return fail("wrong_audience", "token audience not accepted");
    }
    if (const auto* n = claims.if_contains("notifier")) {
        const auto* obj = n->if_object();
        if (!obj) return fail("invalid_token", "the notifier claim must be an object");
        if (const auto* read = obj->if_contains("read")) {
            const auto* arr = read->if_array();
            if (!arr) return fail("invalid_token", "notifier.read must be an array of strings");
            for (const auto& e : *arr) {
                if (!e.is_string()) return fail("invalid_token", "notifier.read must be an array of strings");
                out.read.emplace_back(e.get_string());
            }
        }
    }
    return out;
}

}  // namespace notifier::core
