#include "calgate/http/server.hpp"

#include "calgate/core/log.hpp"
#include "calgate/http/outbound_pool.hpp"

#include <pistache/endpoint.h>
#include <pistache/http.h>

#include <arpa/inet.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <sstream>
#include <thread>

namespace calgate::http {
namespace {

// Room for the request line and headers on top of the body limit. Requests beyond body limit +
// this are cut off by Pistache itself (also 413, but with its own plain-text body).
constexpr std::size_t kHeaderAllowance = 64 * 1024;

// Requests in flight in two stages: a handler running (it may hold database sessions: a shutdown
// must not tear the store down under it), then its answer handed to Pistache until the bytes are
// out. Pistache may never settle the write of a peer that went away, so only running handlers hold
// a shutdown past its grace; undelivered answers are given up with the listener.
struct InFlight {
  std::mutex mutex;
  std::condition_variable idle;
  std::size_t running = 0;
  std::size_t writing = 0;

  void enter() {
    std::lock_guard lock(mutex);
    ++running;
  }
  /// The handler is done without an answer to write.
  void leave() {
    std::lock_guard lock(mutex);
    if (running > 0) --running;
    idle.notify_all();
  }
  /// The handler is done; its answer is being written.
  void handedOver() {
    std::lock_guard lock(mutex);
    if (running > 0) --running;
    ++writing;
    idle.notify_all();
  }
  void written() {
    std::lock_guard lock(mutex);
    if (writing > 0) --writing;
    idle.notify_all();
  }
  /// Waits up to `grace` for every handler to finish and every answer to be out; returns how many
  /// handlers are still running (answers still being written are counted in `undelivered`).
  std::size_t waitIdle(std::chrono::milliseconds grace, std::size_t& undelivered) {
    std::unique_lock lock(mutex);
    idle.wait_for(lock, grace, [&] { return running == 0 && writing == 0; });
    undelivered = writing;
    return running;
  }
};

// The client behind a trusted reverse proxy: the last X-Forwarded-For entry (the one the proxy
// added); anyone else's header is ignored.
std::string clientOf(const Pistache::Http::Request& in, const Request& out, const std::vector<std::string>& trusted) {
  const std::string peer = in.address().host();
  if (std::find(trusted.begin(), trusted.end(), peer) == trusted.end()) return peer;
  const auto forwarded = out.header("x-forwarded-for");
  if (!forwarded) return peer;
  std::string_view last = *forwarded;
  if (const auto comma = last.rfind(','); comma != std::string_view::npos) last.remove_prefix(comma + 1);
  while (!last.empty() && last.front() == ' ') last.remove_prefix(1);
  while (!last.empty() && last.back() == ' ') last.remove_suffix(1);
  // only an address is believed: anything else in the header is the client's own invention
  const std::string candidate(last.substr(0, 64));
  in6_addr a6{};
  in_addr a4{};
  if (inet_pton(AF_INET, candidate.c_str(), &a4) == 1 || inet_pton(AF_INET6, candidate.c_str(), &a6) == 1) {
    return candidate;
  }
  return peer;
}

Request toRequest(const Pistache::Http::Request& in, const std::vector<std::string>& trustedProxies) {
  Request out;
  out.method = Pistache::Http::methodString(in.method());
  out.path = in.resource();
  std::string query = in.query().as_str();
  if (!query.empty() && query.front() == '?') query.erase(0, 1);
  out.query = std::move(query);
  for (const auto& header : in.headers().list()) {
    std::ostringstream value;
    header->write(value);
    std::string name = header->name();
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.headers.emplace_back(std::move(name), value.str());
  }
  for (const auto& [name, raw] : in.headers().rawList()) {
    std::string lower = name;
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.headers.emplace_back(std::move(lower), raw.value());
  }
  if (auto length = in.headers().tryGet<Pistache::Http::Header::ContentLength>()) {
    out.contentLength = length->value();
  }
  out.body = in.body();
  out.clientAddress = clientOf(in, out, trustedProxies);
  return out;
}

// Pistache serialises only typed headers (raw ones are dropped on responses), so response
// headers go through this header type whose name is chosen at run time.
class NamedHeader final : public Pistache::Http::Header::Header {
 public:
  NamedHeader(std::string name, std::string value) : name_(std::move(name)), value_(std::move(value)) {}
  const char* name() const override { return name_.c_str(); }
  std::uint64_t hash() const override { return Pistache::Http::Header::detail::hash(name_.c_str()); }
  void write(std::ostream& os) const override { os << value_; }

 private:
  std::string name_;
  std::string value_;
};

void addHeader(Pistache::Http::ResponseWriter& writer, std::string name, std::string value) {
  // Header values must not break the response framing.
  for (char& c : value) {
    if (c == '\r' || c == '\n') c = ' ';
  }
  writer.headers().add(std::make_shared<NamedHeader>(std::move(name), std::move(value)));
}

// Writes the response (from any thread: Pistache queues it for its reactor); the request leaves
// the in-flight count when the bytes are out.
void send(Pistache::Http::ResponseWriter& writer, const Response& response, InFlight* inFlight) {
  bool handed = false;
  try {
    for (const auto& [name, value] : response.headers) addHeader(writer, name, value);
    if (!response.contentType.empty()) addHeader(writer, "Content-Type", response.contentType);
    addHeader(writer, "Cache-Control", "no-store");
    inFlight->handedOver();
    handed = true;
    writer.send(static_cast<Pistache::Http::Code>(response.status), response.body)
        .then([inFlight](ssize_t) { inFlight->written(); }, [inFlight](std::exception_ptr) { inFlight->written(); });
  } catch (const std::exception& e) {
    core::log::error("http.write_failed", {{"error", e.what()}});
    if (handed) inFlight->written();
    else inFlight->leave();
  }
}

Response refusal(OutboundPool::Admission admission, const OutboundLimits& limits) {
  Response r = admission == OutboundPool::Admission::KeyBusy
                   ? problem(429, "too-many-in-flight", "Too Many Requests",
                             "you already have " + std::to_string(limits.perKey) +
                                 " requests waiting on calendar servers; retry when they are answered")
                   : problem(503, "busy", "Service Unavailable",
                             "too many requests are waiting on calendar servers; retry shortly");
  r.headers.emplace_back("Retry-After", "5");
  return r;
}

class PistacheHandler : public Pistache::Http::Handler {
 public:
  HTTP_PROTOTYPE(PistacheHandler)

  PistacheHandler(Dispatcher* dispatcher, InFlight* inFlight, OutboundPool* outbound,
                  const std::vector<std::string>* trustedProxies)
      : dispatcher_(dispatcher), inFlight_(inFlight), outbound_(outbound), trustedProxies_(trustedProxies) {}

  void onRequest(const Pistache::Http::Request& request, Pistache::Http::ResponseWriter writer) override {
    inFlight_->enter();
    Response response;
    try {
      // what waits on the outside world runs on the outbound pool, which answers it
      struct Offloaded {
        Request request;
        Dispatcher::Pending pending;
        Pistache::Http::ResponseWriter writer;
      };
      auto job = std::make_shared<Offloaded>(Offloaded{toRequest(request, *trustedProxies_), {}, std::move(writer)});
      job->pending = dispatcher_->begin(job->request);
      if (job->pending.answer) {
        response = dispatcher_->finish(job->request, job->pending, std::move(*job->pending.answer));
      } else {
        Dispatcher* dispatcher = dispatcher_;
        InFlight* inFlight = inFlight_;
        const auto admission = outbound_->submit(job->pending.key, [job, dispatcher, inFlight] {
          const Response answer = dispatcher->run(job->request, job->pending);
          send(job->writer, answer, inFlight);
        });
        if (admission == OutboundPool::Admission::Accepted) return;
        response = dispatcher_->finish(job->request, job->pending, refusal(admission, outbound_->limits()));
      }
      send(job->writer, response, inFlight_);
    } catch (const std::exception& e) {
      core::log::error("http.adapter_exception", {{"error", e.what()}});
      inFlight_->leave();
    }
  }

  void onTimeout(const Pistache::Http::Request&, Pistache::Http::ResponseWriter writer) override {
    const Response r = problem(408, "request-timeout", "Request Timeout", "the request was not received in time");
    addHeader(writer, "Content-Type", r.contentType);
    writer.send(Pistache::Http::Code::Request_Timeout, r.body);
  }

 private:
  Dispatcher* dispatcher_;
  InFlight* inFlight_;
  OutboundPool* outbound_;
  const std::vector<std::string>* trustedProxies_;
};

}  // namespace

struct Server::Impl {
  Dispatcher& dispatcher;
  ServerConfig config;
  InFlight inFlight;
  OutboundPool outbound;
  std::unique_ptr<Pistache::Http::Endpoint> endpoint;
  std::atomic<bool> running{false};
  std::uint16_t boundPort = 0;
};

Server::Server(Dispatcher& dispatcher, const ServerConfig& config)
    : impl_(new Impl{dispatcher, config, {},
                     OutboundPool(OutboundLimits{config.outboundThreads, config.outboundQueue, config.outboundPerUser}),
                     nullptr, {}, 0}) {}

Server::~Server() { shutdown(std::chrono::milliseconds(0)); }

core::Result<void> Server::start() {
  try {
    const bool v6 = impl_->config.address.find(':') != std::string::npos;
    const std::string host = v6 ? "[" + impl_->config.address + "]" : impl_->config.address;
    Pistache::Address address(host, Pistache::Port(impl_->config.port));
    impl_->endpoint = std::make_unique<Pistache::Http::Endpoint>(address);
    auto options = Pistache::Http::Endpoint::options()
                       .threads(static_cast<int>(impl_->config.threads))
                       .flags(Pistache::Tcp::Options::ReuseAddr)
                       .maxRequestSize(impl_->dispatcher.maxBodyBytes() + kHeaderAllowance)
                       .headerTimeout(std::chrono::seconds(30))
                       .bodyTimeout(std::chrono::seconds(60));
    impl_->endpoint->init(options);
    impl_->endpoint->setHandler(
        Pistache::Http::make_handler<PistacheHandler>(&impl_->dispatcher, &impl_->inFlight, &impl_->outbound,
                                                      &impl_->config.trustedProxies));
    impl_->endpoint->serveThreaded();
    impl_->boundPort = static_cast<std::uint16_t>(impl_->endpoint->getPort());
    impl_->running = true;
    return {};
  } catch (const std::exception& e) {
    impl_->endpoint.reset();
    return core::fail(core::ErrorCode::Unavailable, "cannot listen on " + impl_->config.address + ":" +
                                                        std::to_string(impl_->config.port) + ": " + e.what());
  }
}

std::uint16_t Server::port() const { return impl_->boundPort; }

std::size_t Server::shutdown(std::chrono::milliseconds grace) {
  if (!impl_->running.exchange(false)) return 0;
  impl_->dispatcher.startDraining();
  std::size_t undelivered = 0;
  const std::size_t left = impl_->inFlight.waitIdle(grace, undelivered);
  if (undelivered > 0) core::log::warn("http.answers_undelivered", {{"answers", static_cast<long long>(undelivered)}});
  if (left > 0) {
    // Closing the endpoint would join reactor threads that are stuck in handlers: the caller
    // decides how to end the process instead of hanging past the deadline.
    return left;
  }
  impl_->outbound.stop();
  impl_->endpoint->shutdown();
  impl_->endpoint.reset();
  return 0;
}

}  // namespace calgate::http
