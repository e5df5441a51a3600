#include "calgate/vault/master_key.hpp"

#include <botan/base64.h>
#include <botan/system_rng.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace calgate::vault {
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

std::filesystem::path keyFilePath(const VaultConfig& config, const std::filesystem::path& dataDir) {
  return config.keyFile.empty() ? dataDir / "master.key" : config.keyFile;
}

core::Result<SecretBytes> readSecretFile(const std::filesystem::path& path, const std::string& origin, std::size_t maxBytes) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return fail(ErrorCode::NotFound, origin + " does not exist");
    return fail(ErrorCode::Invalid, "cannot read " + origin + ": " + std::strerror(errno));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return fail(ErrorCode::Invalid, origin + " is not a regular file");
  }
  if (st.st_uid != ::geteuid()) {
    ::close(fd);
    return fail(ErrorCode::Invalid, origin + " belongs to another user (uid " + std::to_string(st.st_uid) +
                                        "); it must be owned by the user calgate runs as");
  }
  struct stat dir {};
  const auto parent = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  if (::stat(parent.c_str(), &dir) == 0 && (dir.st_mode & 022) != 0 && !(dir.st_mode & S_ISVTX)) {
    ::close(fd);
    return fail(ErrorCode::Invalid, "the directory of " + origin +
                                        " is writable by others, so the file could be replaced; run: chmod go-w " +
                                        parent.string());
  }
  if ((st.st_mode & 077) != 0) {
    ::close(fd);
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return fail(ErrorCode::Invalid, origin + " is readable by others (mode " + mode + "); run: chmod 600 " +
                                        path.string());
  }
  SecretBytes text(maxBytes);
  const ssize_t n = ::read(fd, text.data(), text.size());
  ::close(fd);
  if (n < 0) return fail(ErrorCode::Invalid, "cannot read " + origin);
  text.resize(static_cast<std::size_t>(n));
  return text;
}

core::Result<MasterKeyMaterial> loadMasterKey(const VaultConfig& config, const std::filesystem::path& dataDir,
                                              const std::map<std::string, std::string>& env) {
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
  const auto path = keyFilePath(config, dataDir);
  const std::string origin = "key file " + path.string();
  auto text = readSecretFile(path, origin, 256);
  if (!text) {
    if (text.error().code == ErrorCode::NotFound) {
      return fail(ErrorCode::Invalid, "no master key: " + origin +
                                          " does not exist; create it with `calgate-admin vault init`, or set "
                                          "CALGATE_MASTER_KEY or CALGATE_MASTER_PASSPHRASE");
    }
    return std::unexpected(text.error());
  }
  auto key = decodeKey(std::string_view(reinterpret_cast<const char*>(text->data()), text->size()), origin);
  if (!key) return std::unexpected(key.error());
  return MasterKeyMaterial{MasterKeyMaterial::Kind::Raw, std::move(*key), origin};
}

void protectProcessSecrets() {
  ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  const rlimit none{0, 0};
  ::setrlimit(RLIMIT_CORE, &none);
  for (const char* name : {"CALGATE_MASTER_KEY", "CALGATE_MASTER_PASSPHRASE"}) {
    if (char* value = std::getenv(name)) {
      Botan::secure_scrub_memory(value, std::strlen(value));
      ::unsetenv(name);
    }
  }
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
  // Encoded straight into locked, scrubbed memory: no std::string copy of the key.
  Botan::secure_vector<char> line(Botan::base64_encode_max_output(key.size()) + 1);
  std::size_t consumed = 0;
  const std::size_t written = Botan::base64_encode(line.data(), key.data(), key.size(), consumed, true);
  line[written] = '\n';
  const bool ok = ::write(fd, line.data(), written + 1) == static_cast<ssize_t>(written + 1) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) {
    ::unlink(path.c_str());
    return fail(ErrorCode::Unavailable, "cannot write key file " + path.string());
  }
  return true;
}

}  // namespace calgate::vault
