#include "calgate/sync/process_identity.hpp"

#include "calgate/core/hash.hpp"

#include <fstream>
#include <sstream>
#include <unistd.h>

namespace calgate::sync {

namespace {

std::string firstLine(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::string line;
  std::getline(in, line);
  return line;
}

// Field 22 of /proc/<pid>/stat (after the parenthesised command, which may hold spaces).
long long startTicksOf(long long pid) {
  const std::string stat = firstLine("/proc/" + std::to_string(pid) + "/stat");
  const auto close = stat.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream rest(stat.substr(close + 1));
  std::string field;
  for (int i = 3; i <= 22 && rest >> field; ++i) {
    if (i == 22) return std::strtoll(field.c_str(), nullptr, 10);
  }
  return 0;
}

std::string noSpaces(std::string text) {
  for (char& c : text) {
    if (c == ' ' || c == '#' || c == '\n' || c == '=') c = '_';
  }
  return text;
}

}  // namespace

ProcessIdentity ProcessIdentity::current(const std::filesystem::path& dataDir) {
  ProcessIdentity me;
  char name[256] = {};
  ::gethostname(name, sizeof(name) - 1);
  const std::string machine = firstLine("/etc/machine-id");
  me.host = noSpaces(std::string(name) + (machine.empty() ? "" : "/" + machine));
  me.boot = noSpaces(firstLine("/proc/sys/kernel/random/boot_id"));
  std::error_code ec;
  const auto absolute = std::filesystem::weakly_canonical(std::filesystem::absolute(dataDir, ec), ec);
  me.dataDir = core::sha256Hex((ec ? dataDir : absolute).string()).substr(0, 16);
  me.pid = ::getpid();
  me.startTicks = startTicksOf(me.pid);
  return me;
}

std::string ProcessIdentity::owner() const {
  return "calgate/1 host=" + host + " boot=" + boot + " dir=" + dataDir + " pid=" + std::to_string(pid) +
         " start=" + std::to_string(startTicks);
}

std::optional<ProcessIdentity> ProcessIdentity::parse(const std::string& owner) {
  const std::string text = owner.substr(0, owner.find('#'));
  std::istringstream in(text);
  std::string word;
  if (!(in >> word) || word != "calgate/1") return std::nullopt;
  ProcessIdentity id;
  int seen = 0;
  while (in >> word) {
    const auto eq = word.find('=');
    if (eq == std::string::npos) return std::nullopt;
    const std::string key = word.substr(0, eq), value = word.substr(eq + 1);
    if (key == "host") id.host = value;
    else if (key == "boot") id.boot = value;
    else if (key == "dir") id.dataDir = value;
    else if (key == "pid") id.pid = std::strtoll(value.c_str(), nullptr, 10);
    else if (key == "start") id.startTicks = std::strtoll(value.c_str(), nullptr, 10);
    else return std::nullopt;
    ++seen;
  }
  if (seen != 5 || id.host.empty() || id.dataDir.empty() || id.pid <= 0) return std::nullopt;
  return id;
}

bool ProcessIdentity::isDeadPredecessor(const std::string& owner) const {
  const auto other = parse(owner);
  if (!other || other->host != host || other->dataDir != dataDir) return false;
  if (other->pid == pid && other->startTicks == startTicks && other->boot == boot) return false;  // this process
  if (!boot.empty() && !other->boot.empty() && other->boot != boot) return true;  // the machine rebooted since
  if (other->startTicks == 0) return false;  // cannot tell a recycled pid: keep the lease
  return startTicksOf(other->pid) != other->startTicks;  // 0 (no such process) or another process
}

}  // namespace calgate::sync
