#include "calgate/http/metrics.hpp"

#include "calgate/core/version.hpp"

#include <cstdio>

namespace calgate::http {
namespace {

// Label values are escaped as the exposition format requires: backslash, quote, newline.
std::string label(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string number(double value) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.9g", value);
  return buf;
}

}  // namespace

HttpMetrics::HttpMetrics() : started_(std::chrono::steady_clock::now()) {}

void HttpMetrics::record(const std::string& route, const std::string& method, int status, double seconds) {
  std::lock_guard lock(mutex_);
  ++requests_[{route, method, status}];
  Histogram& h = durations_[route];
  for (std::size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) ++h.buckets[i];
  }
  ++h.count;
  h.sum += seconds;
}

std::string HttpMetrics::render() const {
  std::string out;
  out += "# HELP calgate_build_info Build information of the running calgate.\n";
  out += "# TYPE calgate_build_info gauge\n";
  out += "calgate_build_info{version=\"" + label(core::versionString()) + "\",commit=\"" +
         label(core::gitCommit()) + "\"} 1\n";

  const double uptime =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  out += "# HELP calgate_uptime_seconds Seconds since the process started.\n";
  out += "# TYPE calgate_uptime_seconds gauge\n";
  out += "calgate_uptime_seconds " + number(uptime) + "\n";

  std::lock_guard lock(mutex_);
  out += "# HELP calgate_http_requests_total HTTP requests served, by route pattern, method and status.\n";
  out += "# TYPE calgate_http_requests_total counter\n";
  for (const auto& [key, count] : requests_) {
    const auto& [route, method, status] = key;
    out += "calgate_http_requests_total{route=\"" + label(route) + "\",method=\"" + label(method) +
           "\",status=\"" + std::to_string(status) + "\"} " + std::to_string(count) + "\n";
  }
  out += "# HELP calgate_http_request_duration_seconds Time from request parsed to response handed to the socket.\n";
  out += "# TYPE calgate_http_request_duration_seconds histogram\n";
  for (const auto& [route, h] : durations_) {
    const std::string r = label(route);
    for (std::size_t i = 0; i < kBuckets.size(); ++i) {
      out += "calgate_http_request_duration_seconds_bucket{route=\"" + r + "\",le=\"" + number(kBuckets[i]) +
             "\"} " + std::to_string(h.buckets[i]) + "\n";
    }
    out += "calgate_http_request_duration_seconds_bucket{route=\"" + r + "\",le=\"+Inf\"} " +
           std::to_string(h.count) + "\n";
    out += "calgate_http_request_duration_seconds_sum{route=\"" + r + "\"} " + number(h.sum) + "\n";
    out += "calgate_http_request_duration_seconds_count{route=\"" + r + "\"} " + std::to_string(h.count) + "\n";
  }
  if (extra_) out += extra_();
  return out;
}

}  // namespace calgate::http
