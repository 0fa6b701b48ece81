#include "service/tls/certificate_check.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <ctime>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"

namespace b24gate {
namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;

absl::Status Bad(const std::string& what, const std::string& why) {
  return absl::InvalidArgumentError(absl::StrCat(what, ": ", why));
}

// A passphrase callback that refuses: an encrypted key must fail, not
// prompt on the terminal.
int NoPassphrase(char*, int, int, void*) { return -1; }

// Every certificate in `pem`, in order; fails when a PEM block that should
// be a certificate does not parse. Other blocks (a private key in the same
// file) are skipped.
absl::StatusOr<std::vector<X509Ptr>> ReadCertificates(const std::string& pem, const std::string& what) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  std::vector<X509Ptr> certs;
  while (true) {
    X509* x = PEM_read_bio_X509(bio.get(), nullptr, NoPassphrase, nullptr);
    if (x == nullptr) break;
    certs.emplace_back(x);
  }
  unsigned long error = ERR_peek_last_error();
  bool clean_end = ERR_GET_LIB(error) == ERR_LIB_PEM && ERR_GET_REASON(error) == PEM_R_NO_START_LINE;
  ERR_clear_error();
  if (!clean_end && error != 0) return Bad(what, "a PEM certificate block does not parse");
  if (certs.empty()) return Bad(what, "no PEM certificate (\"-----BEGIN CERTIFICATE-----\") found");
  return certs;
}

std::string SubjectOf(X509* x) {
  std::unique_ptr<BIO, BioFree> out(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(out.get(), X509_get_subject_name(x), 0, XN_FLAG_RFC2253);
  char* data = nullptr;
  long size = BIO_get_mem_data(out.get(), &data);
  return std::string(data, size);
}

std::string SerialOf(X509* x) {
  BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), nullptr);
  if (bn == nullptr) return "";
  char* hex = BN_bn2hex(bn);
  std::string serial = hex ? hex : "";
  OPENSSL_free(hex);
  BN_free(bn);
  return serial;
}

absl::Time NotAfterOf(X509* x) {
  std::tm tm{};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) != 1) return absl::InfinitePast();
  return absl::FromTimeT(timegm(&tm));
}

CertificateInfo InfoOf(X509* x) { return {SubjectOf(x), SerialOf(x), NotAfterOf(x)}; }

}  // namespace

absl::StatusOr<CertificateInfo> InspectCertificateChain(const std::string& pem, const std::string& what) {
  absl::StatusOr<std::vector<X509Ptr>> certs = ReadCertificates(pem, what);
  if (!certs.ok()) return certs.status();
  return InfoOf(certs->front().get());
}

absl::StatusOr<CertificateInfo> CheckKeyPair(const std::string& chain_pem, const std::string& cert_what,
                                             const std::string& key_pem, const std::string& key_what) {
  absl::StatusOr<std::vector<X509Ptr>> certs = ReadCertificates(chain_pem, cert_what);
  if (!certs.ok()) return certs.status();
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size())));
  std::unique_ptr<EVP_PKEY, KeyFree> key(
      PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassphrase, nullptr));
  ERR_clear_error();
  if (!key) {
    return Bad(key_what,
               "not a PEM private key (keys protected by a passphrase are not supported)");
  }
  X509* leaf = certs->front().get();
  if (X509_check_private_key(leaf, key.get()) != 1) {
    ERR_clear_error();
    return Bad(key_what, absl::StrCat("this private key does not belong to the certificate in ",
                                      cert_what));
  }
  return InfoOf(leaf);
}

absl::Status CheckCaBundle(const std::string& pem, const std::string& what) {
  absl::StatusOr<std::vector<X509Ptr>> certs = ReadCertificates(pem, what);
  return certs.status();
}

}  // namespace b24gate
