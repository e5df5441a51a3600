#include "calgate/dns/cares_transport.hpp"

#include <ares.h>
#include <botan/system_rng.h>
#include <ldns/ldns.h>
#include <sys/select.h>

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
    : channel_(std::move(channel)), options_(std::move(options)) {}

CaresTransport::~CaresTransport() = default;

core::Result<std::unique_ptr<CaresTransport>> CaresTransport::create(const TransportOptions& options) {
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
  return std::unique_ptr<CaresTransport>(new CaresTransport(std::move(channel), options));
}

core::Result<std::vector<std::uint8_t>> CaresTransport::query(const std::string& name, RrType type) {
  std::uint16_t id = 0;
  auto packet = buildQuery(name, type, &id);
  if (!packet) return std::unexpected(packet.error());
  std::lock_guard lock(mutex_);
  Outcome outcome;
  ares_send(channel_->channel, packet->data(), static_cast<int>(packet->size()), onAnswer, &outcome);
  while (!outcome.done) {
    fd_set readers, writers;
    FD_ZERO(&readers);
    FD_ZERO(&writers);
    const int nfds = ares_fds(channel_->channel, &readers, &writers);
    if (nfds == 0) break;
    timeval tv{};
    timeval* wait = ares_timeout(channel_->channel, nullptr, &tv);
    ::select(nfds, &readers, &writers, nullptr, wait);
    ares_process(channel_->channel, &readers, &writers);
  }
  // c-ares drops EDNS for the whole channel after a FORMERR answer without OPT; every later UDP
  // answer over 512 bytes would then need TCP. Start afresh instead of living with that.
  {
    ares_options current{};
    int mask = 0;
    if (ares_save_options(channel_->channel, &current, &mask) == ARES_SUCCESS) {
      const bool lostEdns = !(current.flags & ARES_FLAG_EDNS);
      ares_destroy_options(&current);
      if (lostEdns) {
        if (auto fresh = create(options_)) std::swap(channel_, (*fresh)->channel_);
      }
    }
  }
  if (!outcome.done) return fail(ErrorCode::Internal, "DNS query was not processed");
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
