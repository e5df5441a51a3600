#include "calgate/core/clock.hpp"
#include "calgate/store/migrator.hpp"
#include "context.hpp"

#include <nlohmann/json.hpp>

#include <iostream>

namespace calgate::admin {

void addDbCommands(CLI::App& app, Context& ctx, int& exitCode) {
  auto* db = app.add_subcommand("db", "Database schema: status and migrations");
  db->require_subcommand(1);

  auto* status = db->add_subcommand("status", "Show applied and pending migrations");
  status->add_flag("--json", ctx.json, "Print JSON");
  status->callback([&] {
    if (auto rc = ctx.open()) { exitCode = *rc; return; }
    store::Migrator migrator(*ctx.db, store::builtinMigrations(ctx.db->dialect()), core::systemClock());
    auto s = migrator.status();
    if (!s) { exitCode = failWith(s.error()); return; }
    if (ctx.json) {
      nlohmann::json list = nlohmann::json::array();
      for (const auto& m : s->known) {
        list.push_back({{"version", m.version},
                        {"name", m.name},
                        {"state", m.checksumMismatch ? "modified" : m.appliedAt ? "applied" : "pending"},
                        {"applied_at", m.appliedAt ? nlohmann::json(isoTime(*m.appliedAt)) : nlohmann::json(nullptr)}});
      }
      std::cout << nlohmann::json{{"database", ctx.db->displayName()},
                                  {"current", s->current()},
                                  {"problem", s->problem()},
                                  {"migrations", list},
                                  {"unknown_applied", s->unknownApplied}}
                       .dump(2)
                << "\n";
    } else {
      std::cout << "database " << ctx.db->displayName() << "\n";
      for (const auto& m : s->known) {
        std::cout << (m.checksumMismatch ? "  modified " : m.appliedAt ? "  applied  " : "  pending  ")
                  << std::to_string(m.version) << "_" << m.name
                  << (m.appliedAt ? "  " + isoTime(*m.appliedAt) : "") << "\n";
      }
      for (int v : s->unknownApplied) std::cout << "  unknown  " << v << " (applied by a newer calgate)\n";
      std::cout << (s->current() ? "schema is current\n" : "schema is not current: " + s->problem() + "\n");
    }
    exitCode = app::kExitOk;
  });

  auto* migrate = db->add_subcommand("migrate", "Apply pending migrations (each in its own transaction)");
  migrate->callback([&] {
    if (auto rc = ctx.open()) { exitCode = *rc; return; }
    store::Migrator migrator(*ctx.db, store::builtinMigrations(ctx.db->dialect()), core::systemClock());
    auto applied = migrator.migrate([](const store::Migration& m) {
      std::cout << "applying " << m.version << "_" << m.name << " ..." << std::endl;
    });
    if (!applied) { exitCode = failWith(applied.error()); return; }
    std::cout << (applied->empty() ? "schema already current\n"
                                   : "applied " + std::to_string(applied->size()) + " migration(s)\n");
    exitCode = app::kExitOk;
  });
}

}  // namespace calgate::admin
