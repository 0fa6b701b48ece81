// Authenticator: bearer tokens checked against SHA-256 hashes (every hash
// compared, the match selected without a branch), mTLS identities, and the
// refusal reasons, without gRPC.
#include "service/auth/authenticator.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"

namespace b24gate::authenticator_test {
namespace {

std::string HexSha256(const std::string& text) {
  Sha256Digest d = Sha256(text);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(d.data()), d.size()));
}

ClientSpec TokenClient(const std::string& name, const std::string& token) {
  ClientSpec c;
  c.name = name;
  c.token_sha256 = HexSha256(token);
  return c;
}

TEST(Sha256, MatchesTheKnownDigest) {
  // printf %s abc | sha256sum
  EXPECT_EQ(HexSha256("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(DigestFromHex, TakesEitherCaseAndRefusesOtherText) {
  std::string hex = HexSha256("abc");
  ASSERT_TRUE(DigestFromHex(hex));
  EXPECT_EQ(*DigestFromHex(hex), Sha256("abc"));
  std::string upper = hex;
  for (char& c : upper) c = static_cast<char>(toupper(c));
  EXPECT_EQ(*DigestFromHex(upper), Sha256("abc"));
  EXPECT_FALSE(DigestFromHex(hex.substr(1)));
  EXPECT_FALSE(DigestFromHex(hex.substr(0, 63) + "g"));
}

// Counts comparisons and passes them to CRYPTO_memcmp's equal-or-not.
int g_compares = 0;
int CountingCompare(const void* a, const void* b, size_t n) {
  ++g_compares;
  return memcmp(a, b, n);
}

TEST(FindDigestConstantTime, ComparesEveryEntryWhereverTheMatchIs) {
  std::vector<Sha256Digest> table = {Sha256("a"), Sha256("b"), Sha256("c"), Sha256("d")};
  for (int i = 0; i < 4; ++i) {
    g_compares = 0;
    EXPECT_EQ(FindDigestConstantTime(table[i], table, CountingCompare), i);
    EXPECT_EQ(g_compares, 4) << "match at " << i;
  }
  g_compares = 0;
  EXPECT_EQ(FindDigestConstantTime(Sha256("e"), table, CountingCompare), -1);
  EXPECT_EQ(g_compares, 4);
}

TEST(FindDigestConstantTime, ADigestDifferingInTheLastByteDoesNotMatch) {
  std::vector<Sha256Digest> table = {Sha256("a")};
  Sha256Digest near = table[0];
  near[31] ^= 1;
  EXPECT_EQ(FindDigestConstantTime(near, table), -1);
  EXPECT_EQ(FindDigestConstantTime(table[0], table), 0);
  EXPECT_EQ(FindDigestConstantTime(table[0], {}), -1);
}

TEST(Authenticator, WithNoClientsEveryCallIsAnonymous) {
  Authenticator auth({});
  EXPECT_FALSE(auth.enabled());
  AuthOutcome out = auth.Identify(std::nullopt, {});
  EXPECT_TRUE(out.ok());
  EXPECT_EQ(out.client, nullptr);
  EXPECT_TRUE(auth.Identify(std::string("Bearer anything"), {}).ok());
}

TEST(Authenticator, BearerTokensFindTheirClient) {
  Authenticator auth({TokenClient("one", "tok-one"), TokenClient("two", "tok-two")});
  AuthOutcome out = auth.Identify(std::string("Bearer tok-two"), {});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out.client->name, "two");
  // The scheme is case-insensitive (RFC 6750); the token is not.
  EXPECT_EQ(auth.Identify(std::string("bearer tok-one"), {}).client->name, "one");
  EXPECT_EQ(auth.Identify(std::string("Bearer TOK-ONE"), {}).failure, AuthFailure::kUnknownToken);
}

TEST(Authenticator, RefusalsSayWhyWithoutTheToken) {
  Authenticator auth({TokenClient("one", "tok-one")});
  AuthOutcome unknown = auth.Identify(std::string("Bearer guess-s3cret"), {});
  EXPECT_EQ(unknown.failure, AuthFailure::kUnknownToken);
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_FALSE(absl::StrContains(unknown.status().message(), "guess-s3cret"));
  EXPECT_EQ(std::string(AuthFailureName(unknown.failure)), "unknown_token");

  EXPECT_EQ(auth.Identify(std::nullopt, {}).failure, AuthFailure::kMissingCredentials);
  for (const char* bad : {"", "Bearer", "Bearer   ", "Basic dG9rOm9uZQ==", "tok-one"}) {
    AuthOutcome out = auth.Identify(std::string(bad), {});
    EXPECT_EQ(out.failure, AuthFailure::kMalformedCredentials) << bad;
    EXPECT_FALSE(absl::StrContains(out.status().message(), "dG9r")) << bad;
  }
}

TEST(Authenticator, CertificateIdentityFindsItsClient) {
  ClientSpec svc;
  svc.name = "svc";
  svc.certificate_identity = "billing.internal";
  Authenticator auth({TokenClient("one", "tok-one"), svc});
  AuthOutcome out = auth.Identify(std::nullopt, {"Some CN", "billing.internal"});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out.client->name, "svc");
  EXPECT_EQ(auth.Identify(std::nullopt, {"other.internal"}).failure,
            AuthFailure::kUnknownCertificate);
  // A token decides alone: a wrong one is refused even on a known certificate.
  EXPECT_EQ(auth.Identify(std::string("Bearer nope"), {"billing.internal"}).failure,
            AuthFailure::kUnknownToken);
  EXPECT_EQ(auth.Identify(std::string("Bearer tok-one"), {"billing.internal"}).client->name, "one");
}

}  // namespace
}  // namespace b24gate::authenticator_test
