#pragma once
// Runs a program as a child process for end-to-end tests: arguments, environment, working
// directory, stdout/stderr captured to files; signals; waiting with a deadline.

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>
#include <sys/types.h>

namespace calgate::test {

struct ProcessResult {
  int exitCode = -1;    ///< exit status, or -1 when killed by a signal
  int signal = 0;       ///< the signal that ended it, if any
  std::string out;      ///< captured stdout
  std::string err;      ///< captured stderr
};

class Process {
 public:
  /// Starts `argv[0]` with `argv`. The environment is exactly `env` (nothing inherited but PATH
  /// and TMPDIR), so tests do not depend on the caller's environment.
  Process(std::vector<std::string> argv, std::map<std::string, std::string> env,
          const std::filesystem::path& workDir);
  ~Process();  ///< kills the child if still running
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  void signal(int sig) const;
  bool running();
  /// Waits up to `timeout`; nullopt if still running then.
  std::optional<ProcessResult> wait(std::chrono::milliseconds timeout);
  /// Output so far.
  std::string currentErr() const;
  std::string currentOut() const;

 private:
  pid_t pid_ = -1;
  std::filesystem::path outFile_, errFile_;
  std::optional<ProcessResult> result_;
};

/// Runs a command to completion (deadline 60 s).
ProcessResult run(std::vector<std::string> argv, std::map<std::string, std::string> env,
                  const std::filesystem::path& workDir);

}  // namespace calgate::test
