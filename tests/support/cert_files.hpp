// SPDX-License-Identifier: MIT
#pragma once
// A self-signed P-256 certificate for a common name, made in-process with
// OpenSSL and written as PEM files (removed with the object), for tests of
// the TLS listener.

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>

namespace notifier::test {

// A self-signed P-256 certificate for CN=`cn`, written as PEM files.
struct cert_files {
    std::filesystem::path dir, cert, key;

    explicit cert_files(const std::string& cn) {
        dir = std::filesystem::temp_directory_path() / ("notifier-test-cert-" + std::to_string(::getpid()) + "-" + cn);
        std::filesystem::create_directories(dir);
        cert = dir / "cert.pem";
        key = dir / "key.pem";
        EVP_PKEY* pkey = EVP_EC_gen("P-256");
        X509* x = X509_new();
        X509_set_version(x, 2);
        ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
        X509_gmtime_adj(X509_getm_notBefore(x), 0);
        X509_gmtime_adj(X509_getm_notAfter(x), 3600);
        X509_set_pubkey(x, pkey);
        X509_NAME* name = X509_get_subject_name(x);
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.c_str()), -1,
                                   -1, 0);
        X509_set_issuer_name(x, name);
        X509_sign(x, pkey, EVP_sha256());
        FILE* f = std::fopen(cert.c_str(), "w");
        PEM_write_X509(f, x);
        std::fclose(f);
        f = std::fopen(key.c_str(), "w");
        PEM_write_PrivateKey(f, pkey, nullptr, nullptr, 0, nullptr, nullptr);
        std::fclose(f);
        X509_free(x);
        EVP_PKEY_free(pkey);
    }
    ~cert_files() {
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
    }
};

}  // namespace notifier::test
