#include "calgate/core/clock.hpp"
#include "calgate/orgpolicy/dns_setup.hpp"
#include "calgate/orgpolicy/sql_pin_store.hpp"
#include "calgate/policy/evaluator.hpp"
#include "calgate/store/migrator.hpp"
#include "context.hpp"

#include <nlohmann/json.hpp>

#include <iostream>
#include <map>

namespace calgate::admin {
namespace {

namespace dns = calgate::dns;
using nlohmann::json;

std::string_view recordStatus(const dns::ParsedRecord& r) {
  switch (r.kind) {
    case dns::ParsedRecord::Kind::Valid: return "valid";
    case dns::ParsedRecord::Kind::Invalid: return "invalid";
    case dns::ParsedRecord::Kind::NotPolicy: return "not a calendar policy";
  }
  return "invalid";
}

// What an event from `domain` would become in a calendar at `target`, under this policy alone.
json preview(const policy::OrgPolicy& org, const std::string& domain, const std::string& target) {
  model::Event sample;
  sample.title = "Quarterly planning (" + domain + ")";
  sample.description = "Agenda and dial-in details";
  sample.location = "Meeting room 4";
  sample.attendees = {"colleague@" + domain};
  sample.start = model::ZonedTime{std::chrono::sys_seconds(std::chrono::seconds(1798794000)), "UTC"};
  sample.end = model::ZonedTime{std::chrono::sys_seconds(std::chrono::seconds(1798797600)), "UTC"};
  policy::WriteContext ctx;
  ctx.pairId = "preview";
  ctx.sourceKey = "sample";
  ctx.targetProvider = model::ProviderKind::Google;
  ctx.targetDomains = {target};
  const auto d = policy::Evaluator{}.evaluate(policy::PairRules{}, org, sample, ctx);
  json out = {{"target_domain", target}, {"outcome", policy::toString(d.mode)}, {"reasons", d.reasons}};
  if (d.write && d.write->action() == policy::ApprovedWrite::Action::Upsert) {
    const auto& e = d.write->event();
    out["title"] = e.title;
    out["description"] = e.description;
    out["location"] = e.location;
    out["sensitivity"] = model::toString(e.sensitivity);
  }
  return out;
}

// Shows the gateway's stored pins but keeps the check's own changes in memory: a diagnostic must
// not change what the gateway enforces.
class ReadOnlyPins final : public dns::PinStore {
 public:
  explicit ReadOnlyPins(dns::PinStore& stored) : stored_(stored) {}
  core::Result<std::optional<dns::Pin>> load(const std::string& domain) override {
    if (overlay_.contains(domain)) return overlay_.at(domain);
    return stored_.load(domain);
  }
  core::Result<void> save(const dns::Pin& pin) override {
    overlay_[pin.domain] = pin;
    return {};
  }
  core::Result<void> remove(const std::string& domain) override {
    overlay_[domain] = std::nullopt;
    return {};
  }

 private:
  dns::PinStore& stored_;
  std::map<std::string, std::optional<dns::Pin>> overlay_;
};

}  // namespace

void addDnsCommands(CLI::App& app, Context& ctx, int& exitCode) {
  auto* cmd = app.add_subcommand("dns", "Organisation privacy policies published in DNS");
  cmd->require_subcommand(1);
  static std::string domain;
  static std::string target = "example.net";
  auto* check = cmd->add_subcommand(
      "check", "Look up and validate DOMAIN's _calendar-privacy TXT record, as an IT admin does after publishing it");
  check->add_option("DOMAIN", domain, "The organisation's domain, e.g. acme.com")->required();
  check->add_option("--target-domain", target, "Domain of a calendar outside the organisation, for the preview")
      ->capture_default_str();
  check->add_flag("--json", ctx.json, "Print JSON");
  check->callback([&] {
    const app::Environment env = app::processEnvironment();
    auto loaded = app::loadConfig(app::chooseConfigFile(ctx.configPath, env), env);
    if (!loaded) {
      exitCode = failWith("configuration error: " + loaded.error().message, app::kExitUsage);
      return;
    }
    ctx.config = *loaded;
    core::log::setLevel(core::log::Level::Warn);
    // Pins come from the gateway's database when it is there; otherwise the check stands alone.
    std::unique_ptr<dns::PinStore> stored;
    std::unique_ptr<dns::PinStore> pins;
    std::string pinSource = "this check only: no migrated database, so no stored pins";
    if (auto db = app::openConfiguredDatabase(ctx.config)) {
      store::Migrator migrator(**db, store::builtinMigrations((*db)->dialect()), core::systemClock());
      if (migrator.verifyCurrent()) {
        ctx.db = std::move(*db);
        stored = std::make_unique<orgpolicy::SqlPinStore>(*ctx.db);
        pins = std::make_unique<ReadOnlyPins>(*stored);
        pinSource = "the gateway's database (read only)";
      }
    }
    if (!pins) pins = std::make_unique<dns::MemoryPinStore>();
    auto stack = orgpolicy::makeOrgPolicyStack(ctx.config.dns, *pins, core::systemClock());
    if (!stack) {
      exitCode = failWith(stack.error().message, app::kExitUsage);
      return;
    }
    const auto report = stack->service->inspect(domain);
    const auto& a = report.answer;
    const bool problems = a.security == dns::Security::Bogus || a.security == dns::Security::Indeterminate ||
                          std::any_of(report.records.begin(), report.records.end(), [](const dns::ParsedRecord& r) {
                            return r.kind == dns::ParsedRecord::Kind::Invalid;
                          });
    const json previewJson = preview(report.policy, report.policy.domain, target);
    if (ctx.json) {
      json records = json::array();
      for (const auto& r : report.records) {
        records.push_back({{"text", r.text}, {"status", recordStatus(r)}, {"error", r.error},
                           {"warnings", r.record.warnings}});
      }
      json pin = nullptr;
      if (report.pin) {
        pin = {{"level", policy::toString(report.pin->level)}, {"expires_at", isoTime(report.pin->expiresAt)},
               {"record", report.pin->recordText}};
      }
      json out = {{"domain", report.policy.domain},
                  {"queried_name", report.queriedName},
                  {"dnssec", dns::toString(a.security)},
                  {"answer", a.kind == dns::TxtAnswer::Kind::Records ? "records"
                             : a.kind == dns::TxtAnswer::Kind::NoName ? "nxdomain" : "nodata"},
                  {"reason", a.reason},
                  {"cause", a.cause == core::Cause::None ? json(nullptr) : json(std::string(core::causeName(a.cause)))},
                  {"chain", a.chain},
                  {"records", records},
                  {"policy",
                   {{"level", policy::toString(report.policy.level)},
                    {"validation", policy::toString(report.policy.validation)},
                    {"pinned", report.policy.pinned},
                    {"label", report.policy.label ? json(*report.policy.label) : json(nullptr)},
                    {"allow", report.policy.allow},
                    {"reasons", report.policy.reasons}}},
                  {"pin", pin},
                  {"pin_source", pinSource},
                  {"cache_seconds", report.cacheFor.count()},
                  {"notes", report.notes},
                  {"preview", previewJson},
                  {"ok", !problems}};
      std::cout << out.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
    } else {
      std::cout << "domain       " << report.policy.domain << "\n"
                << "looked up    " << report.queriedName << "\n"
                << "DNSSEC       " << dns::toString(a.security) << (a.reason.empty() ? "" : " (" + a.reason + ")")
                << "\n";
      for (std::size_t i = 0; i < a.chain.size(); ++i) std::cout << (i ? "             " : "chain        ") << a.chain[i] << "\n";
      if (report.records.empty()) std::cout << "records      none\n";
      for (const auto& r : report.records) {
        std::cout << "record       [" << recordStatus(r) << "] " << r.text << "\n";
        if (!r.error.empty()) std::cout << "               error: " << r.error << "\n";
        for (const auto& w : r.record.warnings) std::cout << "               warning: " << w << "\n";
      }
      std::cout << "policy       " << report.policy.describe();
      if (report.policy.label) std::cout << ", label \"" << *report.policy.label << "\"";
      if (!report.policy.allow.empty()) {
        std::cout << ", allow";
        for (const auto& d : report.policy.allow) std::cout << " " << d;
      }
      std::cout << "\n";
      for (const auto& r : report.policy.reasons) std::cout << "             " << r << "\n";
      std::cout << "pin          "
                << (report.pin ? "p=" + std::string(policy::toString(report.pin->level)) + " until " +
                                     isoTime(report.pin->expiresAt)
                               : std::string("none"))
                << "  (" << pinSource << ")\n"
                << "cache        " << report.cacheFor.count() << " s\n";
      for (const auto& n : report.notes) std::cout << "note         " << n << "\n";
      std::cout << "preview      an event from " << report.policy.domain << " copied to a calendar at " << target
                << ": " << previewJson["outcome"].get<std::string>();
      if (previewJson.contains("title")) {
        std::cout << ", title \"" << previewJson["title"].get<std::string>() << "\", "
                  << (previewJson["description"].get<std::string>().empty() ? "details cleared" : "details kept")
                  << ", " << previewJson["sensitivity"].get<std::string>();
      } else {
        std::cout << " (not written; an existing copy would be removed)";
      }
      std::cout << "\n";
    }
    exitCode = problems ? app::kExitFailure : app::kExitOk;
  });
}

}  // namespace calgate::admin
