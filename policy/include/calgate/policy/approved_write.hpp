#pragma once
/// The only thing a provider adapter may write. Constructible solely by policy::Evaluator, so
/// "every write was checked by the evaluator" holds by construction: adapter write methods take
/// an ApprovedWrite, never a raw Event.

#include "calgate/providers/event.hpp"

#include <string>

namespace calgate::policy {

class Evaluator;

class ApprovedWrite {
 public:
  enum class Action {
    Upsert,  ///< create the copy, or update it if it exists
    Delete,  ///< remove the copy (the source event was cancelled or deleted)
  };

  Action action() const { return action_; }
  /// The event exactly as it may be written: stripped per the rules, with a target UID derived
  /// from the pair and source (never the source's UID) and the calgate origin marker. Carries no
  /// source id, etag, organizer or sequence. For Delete, only uid and origin are meaningful.
  const providers::Event& event() const { return event_; }
  providers::ProviderKind target() const { return target_; }

 private:
  friend class Evaluator;
  ApprovedWrite(Action action, providers::Event event, providers::ProviderKind target)
      : action_(action), event_(std::move(event)), target_(target) {}

  Action action_;
  providers::Event event_;
  providers::ProviderKind target_;
};

}  // namespace calgate::policy
