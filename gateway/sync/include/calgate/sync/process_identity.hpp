#pragma once
/// Who holds a job lease, precisely enough for a restarted gateway to recognise the jobs its own
/// dead predecessor left running and take them back at once instead of waiting out their lease.
///
/// The owner text names the host (hostname and machine id), the boot (kernel boot id), the data
/// directory (a digest of its absolute path) and the process (pid and its start time, so a
/// recycled pid is not mistaken for the old process). A lease owner is this process's dead
/// predecessor when host and data directory are this process's, it is not this process, and
/// either the machine has rebooted since, or no process with that pid and start time runs.
/// Anything else - another host, another data directory, an owner text this version cannot read,
/// a process still alive - keeps its lease. Linux (/proc); elsewhere only the reboot rule applies.

#include <filesystem>
#include <optional>
#include <string>

namespace calgate::sync {

struct ProcessIdentity {
  std::string host;     ///< hostname + machine id
  std::string boot;     ///< /proc/sys/kernel/random/boot_id ("" if unknown)
  std::string dataDir;  ///< digest of the data directory's absolute path
  long long pid = 0;
  long long startTicks = 0;  ///< the process's start time (clock ticks since boot; 0 if unknown)

  /// This process, running on `dataDir`.
  static ProcessIdentity current(const std::filesystem::path& dataDir);
  /// Reads what owner() wrote (the part before any '#worker' suffix); nullopt for anything else.
  static std::optional<ProcessIdentity> parse(const std::string& owner);
  /// "calgate/1 host=… boot=… dir=… pid=… start=…": no spaces inside the values. Lease owners of
  /// this process's workers append "#<n>".
  std::string owner() const;
  /// Whether the process that wrote `owner` was this process's predecessor and is gone (above).
  bool isDeadPredecessor(const std::string& owner) const;
};

}  // namespace calgate::sync
