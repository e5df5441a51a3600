// The vault's cryptographic core and master-key loading (no database).
#include "calgate/vault/master_key.hpp"
#include "calgate/vault/sealed_box.hpp"
#include "support/temp_dir.hpp"

#include <botan/base64.h>
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

using namespace calgate;

using namespace calgate::vault;
using calgate::test::TempDir;

namespace {

SecretBytes bytes(std::string_view s) { return SecretBytes(s.begin(), s.end()); }
SecretBytes key(std::uint8_t fill) { return SecretBytes(kKeyBytes, fill); }
std::string text(const SecretBytes& b) { return std::string(b.begin(), b.end()); }

const std::string kSecret = "icloud-app-password-abcd-efgh";
const std::string kContext = contextOf({"credential", "usr_1", "caldav", "acc_1"});

std::vector<std::uint8_t> raw(const std::string& blob) {
  auto v = Botan::base64_decode(blob);
  return {v.begin(), v.end()};
}
std::string encode(const std::vector<std::uint8_t>& v) { return Botan::base64_encode(v); }

}  // namespace

TEST_CASE("sealed credentials round-trip and use a fresh nonce each time", "[vault]") {
  auto a = seal(key(1), "k1", bytes(kSecret), kContext);
  auto b = seal(key(1), "k1", bytes(kSecret), kContext);
  REQUIRE(a);
  REQUIRE(b);
  CHECK(*a != *b);  // different nonces
  CHECK(a->find(kSecret) == std::string::npos);
  auto opened = open(key(1), *a, kContext);
  REQUIRE(opened);
  CHECK(text(*opened) == kSecret);
  CHECK(blobKeyId(*a) == std::string("k1"));
  // layout: version, id length, id, 12-byte nonce, ciphertext, 16-byte tag
  const auto r = raw(*a);
  CHECK(r[0] == kBlobVersion);
  CHECK(r[1] == 2);
  CHECK(r.size() == 2 + 2 + kNonceBytes + kSecret.size() + kTagBytes);
  auto empty = seal(key(1), "k1", SecretBytes(), kContext);
  REQUIRE(empty);
  CHECK(open(key(1), *empty, kContext)->empty());
}

TEST_CASE("any tampering, wrong key or other binding fails, with no plaintext", "[vault]") {
  const std::string blob = *seal(key(7), "k7", bytes(kSecret), kContext);
  const auto original = raw(blob);
  auto expectFailure = [&](const core::Result<SecretBytes>& r, std::string_view why) {
    INFO(why);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == core::ErrorCode::Invalid);
    CHECK(r.error().message.find(kSecret) == std::string::npos);
    CHECK(r.error().message.find("abcd") == std::string::npos);
  };
  // every single byte flipped: header, nonce, ciphertext, tag
  for (std::size_t i = 0; i < original.size(); ++i) {
    auto t = original;
    t[i] ^= 0x01;
    expectFailure(open(key(7), encode(t), kContext), "byte " + std::to_string(i));
  }
  expectFailure(open(key(8), blob, kContext), "wrong key");
  expectFailure(open(key(7), blob, contextOf({"credential", "usr_1", "caldav", "acc_2"})), "moved to another account");
  expectFailure(open(key(7), blob, contextOf({"credential", "usr_2", "caldav", "acc_1"})), "moved to another user");
  expectFailure(open(key(7), blob, contextOf({"credential", "usr_1", "google", "acc_1"})), "other provider");
  for (std::size_t n = 0; n < original.size(); ++n) {
    expectFailure(open(key(7), encode({original.begin(), original.begin() + static_cast<long>(n)}), kContext),
                  "truncated to " + std::to_string(n));
  }
  auto v2 = original;
  v2[0] = 2;
  auto unknownVersion = open(key(7), encode(v2), kContext);
  REQUIRE_FALSE(unknownVersion);
  CHECK_THAT(unknownVersion.error().message, Catch::Contains("unknown format version 2"));
  expectFailure(open(key(7), "not base64 !!!", kContext), "garbage");
  // the key id is authenticated: relabelling a blob with another id fails even with the right key
  auto relabelled = original;
  relabelled[3] = '8';
  expectFailure(open(key(7), encode(relabelled), kContext), "relabelled key id");
}

TEST_CASE("sealing refuses bad keys and key ids", "[vault]") {
  CHECK_FALSE(seal(SecretBytes(16, 1), "k", bytes("x"), ""));
  CHECK_FALSE(seal(key(1), "", bytes("x"), ""));
  CHECK_FALSE(seal(key(1), "with space", bytes("x"), ""));
  CHECK_FALSE(seal(key(1), std::string(65, 'k'), bytes("x"), ""));
  CHECK(contextOf({"ab", "c"}) != contextOf({"a", "bc"}));
}

TEST_CASE("master key: environment, passphrase, key file", "[vault][master]") {
  TempDir dir;
  VaultConfig config;
  const std::filesystem::path dataDir = dir.path() / "data";
  const std::string b64 = Botan::base64_encode(key(3));

  auto fromEnv = loadMasterKey(config, dataDir, {{"CALGATE_MASTER_KEY", b64 + "\n"}});
  REQUIRE(fromEnv);
  CHECK(fromEnv->kind == MasterKeyMaterial::Kind::Raw);
  CHECK(fromEnv->bytes == key(3));
  CHECK(fromEnv->origin == "environment variable CALGATE_MASTER_KEY");
  auto shortKey = loadMasterKey(config, dataDir, {{"CALGATE_MASTER_KEY", Botan::base64_encode(SecretBytes(16, 1))}});
  REQUIRE_FALSE(shortKey);
  CHECK_THAT(shortKey.error().message, Catch::Contains("exactly 32 bytes (got 16 bytes)"));
  CHECK_FALSE(loadMasterKey(config, dataDir, {{"CALGATE_MASTER_KEY", "***"}}));

  auto pass = loadMasterKey(config, dataDir, {{"CALGATE_MASTER_PASSPHRASE", "correct horse battery staple"}});
  REQUIRE(pass);
  CHECK(pass->kind == MasterKeyMaterial::Kind::Passphrase);
  CHECK_FALSE(loadMasterKey(config, dataDir, {{"CALGATE_MASTER_PASSPHRASE", "short"}}));
  // the key wins over the passphrase
  CHECK(loadMasterKey(config, dataDir, {{"CALGATE_MASTER_KEY", b64}, {"CALGATE_MASTER_PASSPHRASE", "correct horse battery"}})
            ->kind == MasterKeyMaterial::Kind::Raw);

  auto missing = loadMasterKey(config, dataDir, {});
  REQUIRE_FALSE(missing);
  CHECK_THAT(missing.error().message, Catch::Contains("calgate-admin vault init"));

  const auto path = keyFilePath(config, dataDir);
  CHECK(path == dir.path() / "data" / "master.key");
  CHECK(createKeyFile(path) == true);
  CHECK(createKeyFile(path) == false);  // never overwritten
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  auto fromFile = loadMasterKey(config, dataDir, {});
  REQUIRE(fromFile);
  CHECK(fromFile->bytes.size() == kKeyBytes);
  CHECK(fromFile->bytes != key(0));
  CHECK(loadMasterKey(config, dataDir, {})->bytes == fromFile->bytes);

  ::chmod(path.c_str(), 0640);
  auto readable = loadMasterKey(config, dataDir, {});
  REQUIRE_FALSE(readable);
  CHECK_THAT(readable.error().message, Catch::Contains("readable by others (mode 0640)"));
  ::chmod(path.c_str(), 0600);

  ::chown(path.c_str(), 65534, 65534);  // nobody
  if (::geteuid() != 65534) {
    auto foreign = loadMasterKey(config, dataDir, {});
    REQUIRE_FALSE(foreign);
    CHECK_THAT(foreign.error().message, Catch::Contains("belongs to another user"));
  }
  ::chown(path.c_str(), ::geteuid(), ::getegid());
  ::chmod(path.parent_path().c_str(), 0777);
  auto writableDir = loadMasterKey(config, dataDir, {});
  REQUIRE_FALSE(writableDir);
  CHECK_THAT(writableDir.error().message, Catch::Contains("writable by others"));
  ::chmod(path.parent_path().c_str(), 0700);
  CHECK(loadMasterKey(config, dataDir, {}));

  config.keyFile = dir.write("bad.key", "not a key\n");
  ::chmod(config.keyFile.c_str(), 0600);
  CHECK_FALSE(loadMasterKey(config, dataDir, {}));
}
