#pragma once
/// A Provider that hands every call to another one: derive from it to change one behaviour
/// (own the inner adapter's dependencies, filter a listing) without repeating the rest.

#include "calgate/providers/provider.hpp"

namespace calgate::providers {

class ForwardingProvider : public Provider {
 public:
  explicit ForwardingProvider(Provider& inner) : inner_(&inner) {}
  model::ProviderKind kind() const override { return inner_->kind(); }
  core::Result<std::vector<CalendarInfo>> listCalendars() override { return inner_->listCalendars(); }
  core::Result<ChangeSet> pullChanges(const std::string& calendarId, const std::string& cursor,
                                      const TimeWindow& window, const KnownVersions& known = {}) override {
    return inner_->pullChanges(calendarId, cursor, window, known);
  }
  core::Result<std::vector<model::Event>> getEvent(const std::string& calendarId, const std::string& eventId) override {
    return inner_->getEvent(calendarId, eventId);
  }
  core::Result<WriteResult> create(const std::string& calendarId, const policy::ApprovedWrite& write) override {
    return inner_->create(calendarId, write);
  }
  core::Result<WriteResult> update(const std::string& calendarId, const std::string& eventId, const std::string& etag,
                                   const policy::ApprovedWrite& write) override {
    return inner_->update(calendarId, eventId, etag, write);
  }
  core::Result<void> remove(const std::string& calendarId, const std::string& eventId, const std::string& etag,
                            const policy::ApprovedWrite& write) override {
    return inner_->remove(calendarId, eventId, etag, write);
  }
  bool replacesOnUpdate(const std::string& calendarId, const std::string& copyId, const policy::ApprovedWrite& write) override {
    return inner_->replacesOnUpdate(calendarId, copyId, write);
  }
  bool holdsSeries(const std::string& calendarId, const policy::ApprovedWrite& write) override {
    return inner_->holdsSeries(calendarId, write);
  }
  core::Result<Watch> watch(const std::string& calendarId, const WatchRequest& request) override {
    return inner_->watch(calendarId, request);
  }
  core::Result<void> unwatch(const Watch& w) override { return inner_->unwatch(w); }
  core::Result<Watch> renewWatch(const Watch& w, std::chrono::sys_seconds expiresAt) override {
    return inner_->renewWatch(w, expiresAt);
  }
  core::Result<void> reauthorizeWatch(const Watch& w) override { return inner_->reauthorizeWatch(w); }
  std::size_t batchLimit() const override { return inner_->batchLimit(); }
  core::Result<BatchResults> writeBatch(const std::string& calendarId, const std::vector<BatchedWrite>& writes) override {
    return inner_->writeBatch(calendarId, writes);
  }

 protected:
  Provider& inner() { return *inner_; }

 private:
  Provider* inner_;
};

}  // namespace calgate::providers
