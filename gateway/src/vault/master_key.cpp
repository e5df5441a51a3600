#include "calgate/gateway/vault/master_key.hpp"

#include <botan/base64.h>
#include <botan/system_rng.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace calgate::gateway::vault {
namespace {

using core::ErrorCode;
using core::fail;

core::Result<SecretBytes> decodeKey(std::string_view text, const std::string& origin) {
  // trim surrounding whitespace (a trailing newline in a file or variable is common)
  std::size_t b = 0, e = text.size();
  while (b < e && std::isspace(static_cast<unsigned char>(text[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(text[e - 1]))) --e;
  text = text.substr(b, e - b);
  SecretBytes key;
  try {
    key = Botan::base64_decode(text.data(), text.size());
  } catch (const std::exception&) {
    return fail(ErrorCode::Invalid, origin + " is not valid base64");
  }
  if (key.size() != kKeyBytes) {
    return fail(ErrorCode::Invalid, origin + " must hold base64 of exactly 32 bytes (got " +
                                        std::to_string(key.size()) + " bytes)");
  }
  return key;
}

}  // namespace

std::filesystem::path keyFilePath(const Config& config) {
  return config.vault.keyFile.empty() ? config.dataDir / "master.key" : config.vault.keyFile;
}

core::Result<MasterKeyMaterial> loadMasterKey(const Config& config, const Environment& env) {
  if (auto it = env.find("CALGATE_MASTER_KEY"); it != env.end() && !it->second.empty()) {
    auto key = decodeKey(it->second, "environment variable CALGATE_MASTER_KEY");
    if (!key) return std::unexpected(key.error());
    return MasterKeyMaterial{MasterKeyMaterial::Kind::Raw, std::move(*key), "environment variable CALGATE_MASTER_KEY"};
  }
  if (auto it = env.find("CALGATE_MASTER_PASSPHRASE"); it != env.end() && !it->second.empty()) {
    if (it->second.size() < 12) {
      return fail(ErrorCode::Invalid, "environment variable CALGATE_MASTER_PASSPHRASE must be at least 12 characters");
    }
    return MasterKeyMaterial{MasterKeyMaterial::Kind::Passphrase, SecretBytes(it->second.begin(), it->second.end()),
                             "environment variable CALGATE_MASTER_PASSPHRASE"};
  }
  const auto path = keyFilePath(config);
  const std::string origin = "key file " + path.string();
  const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) {
      return fail(ErrorCode::Invalid, "no master key: " + origin +
                                          " does not exist; create it with `calgate-admin vault init`, or set "
                                          "CALGATE_MASTER_KEY or CALGATE_MASTER_PASSPHRASE");
    }
    return fail(ErrorCode::Invalid, "cannot read " + origin + ": " + std::strerror(errno));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return fail(ErrorCode::Invalid, origin + " is not a regular file");
  }
  if ((st.st_mode & 077) != 0) {
    ::close(fd);
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return fail(ErrorCode::Invalid, origin + " is readable by others (mode " + mode + "); run: chmod 600 " +
                                        path.string());
  }
  SecretBytes text(256);
  const ssize_t n = ::read(fd, text.data(), text.size());
  ::close(fd);
  if (n < 0) return fail(ErrorCode::Invalid, "cannot read " + origin);
  text.resize(static_cast<std::size_t>(n));
  auto key = decodeKey(std::string_view(reinterpret_cast<const char*>(text.data()), text.size()), origin);
  if (!key) return std::unexpected(key.error());
  return MasterKeyMaterial{MasterKeyMaterial::Kind::Raw, std::move(*key), origin};
}

core::Result<bool> createKeyFile(const std::filesystem::path& path) {
  std::error_code ec;
  const auto parent = path.parent_path();
  if (!parent.empty() && !std::filesystem::exists(parent, ec)) {
    std::filesystem::create_directories(parent, ec);
    if (ec) return fail(ErrorCode::Unavailable, "cannot create " + parent.string() + ": " + ec.message());
    ::chmod(parent.c_str(), 0700);
  }
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) return false;
    return fail(ErrorCode::Unavailable, "cannot create key file " + path.string() + ": " + std::strerror(errno));
  }
  SecretBytes key(kKeyBytes);
  Botan::system_rng().randomize(key.data(), key.size());
  std::string line = Botan::base64_encode(key) + "\n";
  const bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) && ::fsync(fd) == 0;
  Botan::secure_scrub_memory(line.data(), line.size());
  ::close(fd);
  if (!ok) {
    ::unlink(path.c_str());
    return fail(ErrorCode::Unavailable, "cannot write key file " + path.string());
  }
  return true;
}

}  // namespace calgate::gateway::vault
