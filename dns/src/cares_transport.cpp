#include "calgate/dns/cares_transport.hpp"

#include <ares.h>
#include <botan/system_rng.h>
#include <ldns/ldns.h>
#include <poll.h>

#include <cstring>

namespace calgate::dns {
namespace {

using core::ErrorCode;
using core::fail;

std::once_flag gAresInit;

struct Outcome {
  bool done = false;
  int status = ARES_SUCCESS;
  std::vector<std::uint8_t> answer;
};

void onAnswer(void* arg, int status, int /*timeouts*/, unsigned char* abuf, int alen) {
  auto* out = static_cast<Outcome*>(arg);
  out->done = true;
  out->status = status;
  if (abuf && alen > 0) out->answer.assign(abuf, abuf + alen);
}

}  // namespace

core::Result<std::vector<std::uint8_t>> buildQuery(const std::string& name, RrType type, std::uint16_t* idOut) {
  ldns_rdf* dname = nullptr;
  if (name.empty() || name.size() > 253 || ldns_str2rdf_dname(&dname, name.c_str()) != LDNS_STATUS_OK) {
    return fail(ErrorCode::Invalid, "malformed DNS name");
  }
  ldns_pkt* pkt = ldns_pkt_query_new(dname, static_cast<ldns_rr_type>(type), LDNS_RR_CLASS_IN, LDNS_RD | LDNS_CD);
  if (!pkt) return fail(ErrorCode::Internal, "cannot build DNS query");
  std::uint16_t id = 0;
  Botan::system_rng().randomize(reinterpret_cast<std::uint8_t*>(&id), sizeof id);
  ldns_pkt_set_id(pkt, id);
  ldns_pkt_set_edns_udp_size(pkt, 1232);
  ldns_pkt_set_edns_do(pkt, true);
  std::uint8_t* wire = nullptr;
  std::size_t size = 0;
  const ldns_status st = ldns_pkt2wire(&wire, pkt, &size);
  ldns_pkt_free(pkt);
  if (st != LDNS_STATUS_OK) return fail(ErrorCode::Internal, "cannot encode DNS query");
  std::vector<std::uint8_t> out(wire, wire + size);
  std::free(wire);
  if (idOut) *idOut = id;
  return out;
}

struct CaresTransport::Channel {
  ares_channel channel = nullptr;
  ~Channel() {
    if (channel) ares_destroy(channel);
  }
};

CaresTransport::CaresTransport(std::unique_ptr<Channel> channel, TransportOptions options)
    : options_(std::move(options)) {
  idle_.push_back(std::move(channel));
}

CaresTransport::~CaresTransport() = default;

core::Result<std::unique_ptr<CaresTransport::Channel>> CaresTransport::openChannel(const TransportOptions& options) {
  std::call_once(gAresInit, [] { ares_library_init(ARES_LIB_INIT_ALL); });
  ares_options opts{};
  // EDNS: accept UDP answers up to 1232 bytes (without it c-ares takes >512 bytes for truncated).
  // NOCHECKRESP: hand SERVFAIL/REFUSED to us instead of trying the next server and failing.
  opts.flags = ARES_FLAG_EDNS | ARES_FLAG_NOCHECKRESP | ARES_FLAG_STAYOPEN;
  opts.ednspsz = 1232;
  opts.timeout = static_cast<int>(options.timeout.count());
  opts.tries = options.tries;
  auto channel = std::make_unique<Channel>();
  const int mask = ARES_OPT_FLAGS | ARES_OPT_EDNSPSZ | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES;
  if (ares_init_options(&channel->channel, &opts, mask) != ARES_SUCCESS) {
    return fail(ErrorCode::Unavailable, "cannot initialise the DNS resolver (c-ares)");
  }
  if (!options.servers.empty()) {
    std::string csv;
    for (const auto& s : options.servers) csv += (csv.empty() ? "" : ",") + s;
    if (ares_set_servers_ports_csv(channel->channel, csv.c_str()) != ARES_SUCCESS) {
      return fail(ErrorCode::Invalid, "malformed DNS server list \"" + csv + "\"");
    }
  }
  return channel;
}

core::Result<std::unique_ptr<CaresTransport>> CaresTransport::create(const TransportOptions& options) {
  auto channel = openChannel(options);
  if (!channel) return std::unexpected(channel.error());
  return std::unique_ptr<CaresTransport>(new CaresTransport(std::move(*channel), options));
}

namespace {

// Waits for the channel's sockets with poll(2), which has no limit on descriptor numbers
// (select's fd_set stops at 1024, and a server with many clients hands out higher ones).
void runUntilDone(ares_channel channel, const Outcome& outcome) {
  while (!outcome.done) {
    ares_socket_t sockets[ARES_GETSOCK_MAXNUM];
    const int bits = ares_getsock(channel, sockets, ARES_GETSOCK_MAXNUM);
    pollfd fds[ARES_GETSOCK_MAXNUM];
    nfds_t count = 0;
    for (int i = 0; i < ARES_GETSOCK_MAXNUM; ++i) {
      const bool readable = ARES_GETSOCK_READABLE(bits, i), writable = ARES_GETSOCK_WRITABLE(bits, i);
      if (!readable && !writable) continue;
      fds[count++] = pollfd{sockets[i], static_cast<short>((readable ? POLLIN : 0) | (writable ? POLLOUT : 0)), 0};
    }
    if (count == 0) return;  // nothing in flight: c-ares has answered (or given up)
    timeval tv{};
    const timeval* wait = ares_timeout(channel, nullptr, &tv);
    const int ms = wait ? static_cast<int>(wait->tv_sec * 1000 + (wait->tv_usec + 999) / 1000) : 1000;
    if (::poll(fds, count, ms) <= 0) {
      ares_process_fd(channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);  // timeouts and retries
      continue;
    }
    for (nfds_t i = 0; i < count; ++i) {
      const short got = fds[i].revents;
      if (got == 0) continue;
      ares_process_fd(channel, (got & (POLLIN | POLLERR | POLLHUP)) ? fds[i].fd : ARES_SOCKET_BAD,
                      (got & POLLOUT) ? fds[i].fd : ARES_SOCKET_BAD);
    }
  }
}

// c-ares drops EDNS for the whole channel after a FORMERR answer without OPT; every later UDP
// answer over 512 bytes would then need TCP. Such a channel is not used again.
bool lostEdns(ares_channel channel) {
  ares_options current{};
  int mask = 0;
  if (ares_save_options(channel, &current, &mask) != ARES_SUCCESS) return true;
  const bool lost = !(current.flags & ARES_FLAG_EDNS);
  ares_destroy_options(&current);
  return lost;
}

}  // namespace

std::unique_ptr<CaresTransport::Channel> CaresTransport::takeChannel() {
  {
    std::lock_guard lock(mutex_);
    if (!idle_.empty()) {
      auto channel = std::move(idle_.back());
      idle_.pop_back();
      return channel;
    }
  }
  auto fresh = openChannel(options_);
  return fresh ? std::move(*fresh) : nullptr;
}

void CaresTransport::giveBack(std::unique_ptr<Channel> channel) {
  if (!channel || lostEdns(channel->channel)) return;
  std::lock_guard lock(mutex_);
  if (idle_.size() < kIdleChannels) idle_.push_back(std::move(channel));
}

core::Result<std::vector<std::uint8_t>> CaresTransport::query(const std::string& name, RrType type) {
  std::uint16_t id = 0;
  auto packet = buildQuery(name, type, &id);
  if (!packet) return std::unexpected(packet.error());
  // One channel per query in flight, so lookups run side by side; idle channels are kept.
  auto channel = takeChannel();
  if (!channel) return fail(ErrorCode::Unavailable, "cannot initialise the DNS resolver (c-ares)");
  Outcome outcome;
  ares_send(channel->channel, packet->data(), static_cast<int>(packet->size()), onAnswer, &outcome);
  runUntilDone(channel->channel, outcome);
  if (!outcome.done) {
    ares_cancel(channel->channel);  // calls onAnswer with ARES_ECANCELLED
    channel.reset();
    return fail(ErrorCode::Internal, "DNS query was not processed");
  }
  giveBack(std::move(channel));
  if (outcome.status == ARES_ETIMEOUT) return fail(ErrorCode::Timeout, "no DNS answer for " + name + " in time");
  if (outcome.status != ARES_SUCCESS && outcome.answer.empty()) {
    return fail(ErrorCode::Unavailable, std::string("DNS query for ") + name + " failed: " + ares_strerror(outcome.status));
  }
  if (outcome.answer.size() < 12 || ((outcome.answer[0] << 8) | outcome.answer[1]) != id) {
    return fail(ErrorCode::Unavailable, "DNS answer for " + name + " does not match the query");
  }
  return std::move(outcome.answer);
}

}  // namespace calgate::dns
