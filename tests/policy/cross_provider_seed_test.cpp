// The product pages' mapping tables across providers (../shared/seeds): what a copy becomes when it
// crosses from one provider to another never loosens its privacy, and free/busy survives.
#include "calgate/model/event.hpp"
#include "calgate/providers/caldav/ical_mapping.hpp"
#include "calgate/providers/google/mapping.hpp"
#include "calgate/providers/microsoft/mapping.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace calgate::model;
using namespace std::chrono;
namespace ms = calgate::providers::microsoft;
namespace gg = calgate::providers::google;
namespace ic = calgate::providers::caldav;

TEST_CASE("sensitivity across providers never loosens", "[providers]") {
  struct Row {
    std::string graph, google, ical;
  };
  // Graph source -> Google and iCal targets
  const std::vector<Row> fromGraph = {{"normal", "default", "PUBLIC"},
                                      {"personal", "private", "PRIVATE"},
                                      {"private", "private", "PRIVATE"},
                                      {"confidential", "confidential", "CONFIDENTIAL"}};
  for (const auto& r : fromGraph) {
    const auto s = ms::sensitivityFrom(r.graph);
    CHECK(gg::visibilityFor(s) == r.google);
    CHECK(ic::classFor(s) == r.ical);
  }
  // Google source -> Graph and iCal targets
  const std::vector<Row> fromGoogle = {{"normal", "default", "PUBLIC"},
                                       {"normal", "public", "PUBLIC"},
                                       {"private", "private", "PRIVATE"},
                                       {"confidential", "confidential", "CONFIDENTIAL"}};
  for (const auto& r : fromGoogle) {
    const auto s = gg::sensitivityFromVisibility(r.google);
    CHECK(ms::sensitivityFor(s) == r.graph);
    CHECK(ic::classFor(s) == r.ical);
  }
  // iCal source -> Graph and Google targets
  CHECK(ms::sensitivityFor(ic::sensitivityFromClass("CONFIDENTIAL")) == "confidential");
  CHECK(gg::visibilityFor(ic::sensitivityFromClass("PRIVATE")) == "private");
  CHECK(gg::visibilityFor(ic::sensitivityFromClass(std::nullopt)) == "public");
}

TEST_CASE("free/busy: Graph showAs (five values) <-> Google transparency <-> iCal TRANSP", "[providers][seed]") {
  struct Row {
    std::string showAs, transparency, transp;
  };
  const std::vector<Row> rows = {{"free", "transparent", "TRANSPARENT"},
                                 {"tentative", "opaque", "OPAQUE"},
                                 {"busy", "opaque", "OPAQUE"},
                                 {"oof", "opaque", "OPAQUE"},
                                 {"workingElsewhere", "opaque", "OPAQUE"}};
  for (const auto& r : rows) {
    INFO(r.showAs);
    const ShowAs s = ms::showAsFrom(r.showAs);
    CHECK(ms::showAsFor(s) == r.showAs);  // Graph -> Graph keeps all five
    CHECK(gg::transparencyFor(s) == r.transparency);
    CHECK(ic::transpFor(s) == r.transp);
  }
  CHECK(ms::showAsFor(gg::showAsFromTransparency("transparent")) == "free");
  CHECK(ms::showAsFor(gg::showAsFromTransparency("opaque")) == "busy");
  CHECK(ms::showAsFor(gg::showAsFromTransparency("")) == "busy");
  CHECK(ms::showAsFor(ic::showAsFromTransp("TRANSPARENT")) == "free");
  CHECK(ms::showAsFor(ic::showAsFromTransp(std::nullopt)) == "busy");
  CHECK(gg::transparencyFor(ic::showAsFromTransp("TRANSPARENT")) == "transparent");
  CHECK(ic::transpFor(gg::showAsFromTransparency("transparent")) == "TRANSPARENT");
  CHECK(ms::showAsFrom("unknown") == ShowAs::Busy);
}

