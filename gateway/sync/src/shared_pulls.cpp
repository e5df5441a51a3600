#include "calgate/sync/shared_pulls.hpp"

#include "calgate/core/hash.hpp"

#include <algorithm>
#include <exception>
#include <vector>

namespace calgate::sync {

SharedPulls::SharedPulls(const core::Clock& clock, std::chrono::milliseconds keep, std::size_t maxEntries,
                         std::size_t maxEvents)
    : clock_(clock), keep_(keep), maxEntries_(std::max<std::size_t>(maxEntries, 1)), maxEvents_(maxEvents) {}

std::string knownDigest(const providers::KnownVersions& known) {
  if (known.empty()) return {};
  std::vector<std::pair<std::string, std::string>> sorted(known.begin(), known.end());
  std::sort(sorted.begin(), sorted.end());
  std::string text;
  for (const auto& [id, etag] : sorted) text.append(id).append(1, '\n').append(etag).append(1, '\n');
  return core::sha256Hex(text);
}

long long SharedPulls::nowMs() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock_.now().time_since_epoch()).count();
}

// Drops pulls kept longer than keep_, then the oldest while over maxEntries_ or maxEvents_ (pulls
// under way stay).
void SharedPulls::evict() {
  const auto now = std::chrono::steady_clock::now();
  std::erase_if(entries_, [&](const auto& kv) { return kv.second->endedMs != 0 && now - kv.second->kept > keep_; });
  auto events = [this] {
    std::size_t n = 0;
    for (const auto& [k, e] : entries_) {
      if (!e->changes) continue;
      n += e->changes->changed.size() + e->changes->removed.size() + e->changes->unchanged.size() +
           e->changes->unreadable.size();
    }
    return n;
  };
  while (entries_.size() > maxEntries_ || events() > maxEvents_) {
    auto oldest = entries_.end();
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
      if (it->second->endedMs != 0 && (oldest == entries_.end() || it->second->kept < oldest->second->kept)) oldest = it;
    }
    if (oldest == entries_.end()) return;
    entries_.erase(oldest);
  }
}

core::Result<SharedPulls::Pulled> SharedPulls::get(const PullKey& key, long long notBeforeMs, const Pull& pull,
                                                    std::chrono::milliseconds maxWait) {
  std::unique_lock lock(mutex_);
  evict();
  const auto written = lastWriteMs_.find(key.calendarId);
  const long long notBefore = std::max(notBeforeMs, written == lastWriteMs_.end() ? 0 : written->second + 1);
  if (auto it = entries_.find(key); it != entries_.end() && it->second->beganMs >= notBefore) {
    const std::shared_ptr<Entry> e = it->second;
    // a pull under way: its answer, not a second pull
    if (!done_.wait_for(lock, maxWait, [&] { return e->endedMs != 0; })) {
      return core::fail(core::ErrorCode::Unavailable, "another run's pull of this calendar has not finished");
    }
    if (e->error) return std::unexpected(*e->error);
    ++shared_;
    return Pulled{e->changes, false, e->beganMs};
  }
  auto e = std::make_shared<Entry>();
  e->beganMs = nowMs();
  entries_[key] = e;
  ++sent_;
  lock.unlock();
  core::Result<providers::ChangeSet> result = core::fail(core::ErrorCode::Internal, "the pull did not return");
  try {
    result = pull();
  } catch (const std::exception& ex) {  // never leave the runs waiting on it hanging
    result = core::fail(core::ErrorCode::Internal, std::string("the pull failed: ") + ex.what());
  }
  lock.lock();
  e->endedMs = std::max(nowMs(), 1LL);
  e->kept = std::chrono::steady_clock::now();
  if (result) {
    e->changes = std::make_shared<const providers::ChangeSet>(std::move(*result));
    evict();  // a large listing may push older ones out (or itself: it is then used by this run only)
  } else {
    e->error = result.error();
    if (auto it = entries_.find(key); it != entries_.end() && it->second == e) entries_.erase(it);
  }
  done_.notify_all();
  if (e->error) return std::unexpected(*e->error);
  return Pulled{e->changes, true, e->beganMs};
}

void SharedPulls::wrote(const std::string& calendarId) {
  std::lock_guard lock(mutex_);
  long long& at = lastWriteMs_[calendarId];
  at = std::max(at, nowMs());
  if (lastWriteMs_.size() > 4 * maxEntries_ + 1024) {
    // calendars written long ago: every pull kept now began after those writes anyway
    long long oldestKept = nowMs();
    for (const auto& [k, entry] : entries_) oldestKept = std::min(oldestKept, entry->beganMs);
    std::erase_if(lastWriteMs_, [&](const auto& kv) { return kv.second < oldestKept; });
  }
}

std::optional<std::string> SharedPulls::adoptable(const PullKey& key, long long beganMs) const {
  std::lock_guard lock(mutex_);
  const Entry* newest = nullptr;
  for (auto it = entries_.lower_bound(PullKey{key.calendarId, "", 0, 0});
       it != entries_.end() && it->first.calendarId == key.calendarId; ++it) {
    const auto& [k, e] = *it;
    if (k.pastDays != key.pastDays || k.futureDays != key.futureDays || k.cursor == key.cursor) continue;
    if (e->endedMs == 0 || e->endedMs >= beganMs || !e->changes || e->changes->cursor.empty()) continue;
    if (!newest || e->endedMs > newest->endedMs) newest = e.get();
  }
  if (!newest) return std::nullopt;
  return newest->changes->cursor;
}

std::size_t SharedPulls::sent() const {
  std::lock_guard lock(mutex_);
  return sent_;
}

std::size_t SharedPulls::shared() const {
  std::lock_guard lock(mutex_);
  return shared_;
}

}  // namespace calgate::sync
