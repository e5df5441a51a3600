#pragma once
// A loopback HTTP server for tests of the real HTTP client: it answers one connection per scripted
// response (write them with Connection: close) and records each request it got.

#include <catch2/catch.hpp>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <vector>

namespace calgate::test {

struct Received {
  std::string requestLine, headers, body;
};

/// Answers one connection per scripted response (Connection: close), recording each request.
class ScriptedServer {
 public:
  explicit ScriptedServer(std::vector<std::string> responses) : responses_(std::move(responses)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    REQUIRE(::listen(fd_, 4) == 0);
    thread_ = std::thread([this] { serve(); });
  }
  ~ScriptedServer() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::vector<Received> received;

 private:
  void serve() {
    for (const auto& response : responses_) {
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      std::string in;
      char buf[4096];
      std::size_t headerEnd = std::string::npos;
      while (headerEnd == std::string::npos) {
        const auto n = ::recv(c, buf, sizeof buf, 0);
        if (n <= 0) break;
        in.append(buf, static_cast<std::size_t>(n));
        headerEnd = in.find("\r\n\r\n");
      }
      Received r;
      r.requestLine = in.substr(0, in.find("\r\n"));
      r.headers = in.substr(0, headerEnd);
      std::size_t length = 0;
      if (auto p = r.headers.find("Content-Length: "); p != std::string::npos) length = std::stoul(r.headers.substr(p + 16));
      r.body = headerEnd == std::string::npos ? "" : in.substr(headerEnd + 4);
      while (r.body.size() < length) {
        const auto n = ::recv(c, buf, sizeof buf, 0);
        if (n <= 0) break;
        r.body.append(buf, static_cast<std::size_t>(n));
      }
      received.push_back(r);
      ::send(c, response.data(), response.size(), MSG_NOSIGNAL);
      ::close(c);
    }
  }
  std::vector<std::string> responses_;
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
};

}  // namespace calgate::test
