#pragma once
/// The only thing a provider adapter may write. Constructible solely by policy::Evaluator, so
/// "every write was checked by the evaluator" holds by construction: adapter write methods take
/// an ApprovedWrite, never a raw Event. It remembers the context it was approved for.

#include "calgate/model/event.hpp"
#include "calgate/policy/write_context.hpp"

namespace calgate::policy {

class Evaluator;

class ApprovedWrite {
 public:
  enum class Action {
    Upsert,  ///< create the copy, or update it if it exists
    Delete,  ///< remove the copy (source cancelled or deleted, or the organisation now blocks it)
  };

  Action action() const { return action_; }
  /// The event exactly as it may be written: stripped per the rules; UID derived from the pair and
  /// the source (never the source's UID); origin marker with an opaque source reference;
  /// canonical zone names and recurrence lines; no source id, etag, organizer or sequence. For a
  /// Delete only uid, recurrenceId and origin are meaningful.
  const model::Event& event() const { return event_; }
  model::ProviderKind target() const { return context_.targetProvider; }
  /// The pair and target account this approval is for; adapters must refuse any other.
  const WriteContext& context() const { return context_; }

 private:
  friend class Evaluator;
  ApprovedWrite(Action action, model::Event event, WriteContext context)
      : action_(action), event_(std::move(event)), context_(std::move(context)) {}

  Action action_;
  model::Event event_;
  WriteContext context_;
};

}  // namespace calgate::policy
