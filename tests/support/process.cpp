#include "support/process.hpp"

#include "support/temp_dir.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <stdexcept>
#include <thread>

namespace calgate::test {
namespace {

std::atomic<int> gCounter{0};

}  // namespace

Process::Process(std::vector<std::string> argv, std::map<std::string, std::string> env,
                 const std::filesystem::path& workDir) {
  const int n = gCounter.fetch_add(1);
  outFile_ = workDir / ("proc-" + std::to_string(::getpid()) + "-" + std::to_string(n) + ".out");
  errFile_ = workDir / ("proc-" + std::to_string(::getpid()) + "-" + std::to_string(n) + ".err");
  for (const char* keep : {"PATH", "TMPDIR", "ASAN_OPTIONS", "UBSAN_OPTIONS"}) {
    if (const char* v = std::getenv(keep); v && !env.contains(keep)) env[keep] = v;
  }
  std::vector<std::string> envStrings;
  for (const auto& [k, v] : env) envStrings.push_back(k + "=" + v);
  // Everything the child needs is built before fork(): after it, only async-signal-safe calls.
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  std::vector<char*> envp;
  for (auto& e : envStrings) envp.push_back(e.data());
  envp.push_back(nullptr);
  const std::string outPath = outFile_.string();
  const std::string errPath = errFile_.string();
  const std::string dirPath = workDir.string();

  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    // child: only async-signal-safe work from here on
    if (::chdir(dirPath.c_str()) != 0) ::_exit(126);
    const int out = ::open(outPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int err = ::open(errPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int in = ::open("/dev/null", O_RDONLY);
    if (out < 0 || err < 0 || in < 0) ::_exit(126);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(err, 2);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execve(args[0], args.data(), envp.data());
    ::_exit(127);
  }
}

Process::~Process() {
  if (!result_ && pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
}

void Process::signal(int sig) const { ::kill(pid_, sig); }

bool Process::running() {
  if (result_) return false;
  return !wait(std::chrono::milliseconds(0)).has_value();
}

std::optional<ProcessResult> Process::wait(std::chrono::milliseconds timeout) {
  if (result_) return result_;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    int status = 0;
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      ProcessResult res;
      if (WIFEXITED(status)) res.exitCode = WEXITSTATUS(status);
      if (WIFSIGNALED(status)) res.signal = WTERMSIG(status);
      res.out = readFile(outFile_);
      res.err = readFile(errFile_);
      result_ = res;
      return result_;
    }
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

std::string Process::currentErr() const { return readFile(errFile_); }
std::string Process::currentOut() const { return readFile(outFile_); }

ProcessResult run(std::vector<std::string> argv, std::map<std::string, std::string> env,
                  const std::filesystem::path& workDir) {
  Process p(std::move(argv), std::move(env), workDir);
  auto r = p.wait(std::chrono::seconds(60));
  if (!r) throw std::runtime_error("command did not finish within 60 s");
  return *r;
}

}  // namespace calgate::test
