// Configuration validation: every rejected case names its key; docs/CONFIG.md lists every key.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "vitrify/core/error.hpp"
#include "vitrify/engine/scan.hpp"
#include "vitrify/io/config.hpp"
#include "vitrify/models/model_info.hpp"

using vitrify::InputError;
using json = nlohmann::json;

namespace {

json base_hump() {
  return json{{"model", "hump2d"}, {"n_particles", 1024}, {"temperatures", {0.5, 1.0}}};
}
json base_binary() {
  return json{{"model", "binary3d"}, {"n_particles", 512}, {"temperatures", {1.0}}};
}

// Expects an InputError whose message contains every fragment.
void expect_rejected(const json& j, const std::vector<std::string>& fragments) {
  try {
    vitrify::parse_config(j, "test.json");
    FAIL() << "accepted: " << j.dump();
  } catch (const InputError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("test.json"), std::string::npos) << msg;
    for (const auto& f : fragments)
      EXPECT_NE(msg.find(f), std::string::npos) << "'" << f << "' not in: " << msg;
  }
}

json with(json j, const std::string& key, const json& value) {
  j[key] = value;
  return j;
}

}  // namespace

TEST(Config, DefaultsAreFilledIn) {
  const auto c = vitrify::parse_config(base_hump(), "test.json");
  EXPECT_EQ(c.ensemble, "nvt");
  EXPECT_DOUBLE_EQ(c.density, 0.825);
  EXPECT_EQ(c.n_replicas(), 2);
  EXPECT_EQ(c.output_dir, "runs/hump2d");
  const auto b = vitrify::parse_config(base_binary(), "test.json");
  EXPECT_EQ(b.ensemble, "npt");
  EXPECT_DOUBLE_EQ(b.pressure, 10.0);
  // The resolved configuration parses back to the same thing.
  json resolved = vitrify::to_json(b);
  const auto again = vitrify::parse_config(resolved, "resolved");
  EXPECT_EQ(vitrify::to_json(again), resolved);
}

TEST(Config, BuiltInDefaultIsValid) {
  const auto c = vitrify::default_config();
  EXPECT_FALSE(c.temperatures.empty());
}

TEST(Config, RejectsUnknownKey) {
  expect_rejected(with(base_hump(), "temprature", 1), {"\"temprature\"", "unknown key"});
}
// A likely typo (a few edits from a known key) names the key that was probably meant; a key far
// from every known one gets no suggestion.
TEST(Config, UnknownKeySuggestsTheNearestKnownKey) {
  expect_rejected(with(base_hump(), "temprature", 1), {"did you mean \"temperatures\"?"});
  expect_rejected(with(base_hump(), "n_partciles", 1024), {"did you mean \"n_particles\"?"});
  expect_rejected(with(base_hump(), "Seed", 3), {"did you mean \"seed\"?"});
  expect_rejected(with(base_hump(), "threds", 2), {"did you mean \"threads\"?"});
  try {
    vitrify::parse_config(with(base_hump(), "colour_scheme", 1), "test.json");
    FAIL() << "accepted an unknown key";
  } catch (const InputError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("unknown key"), std::string::npos) << msg;
    EXPECT_EQ(msg.find("did you mean"), std::string::npos) << msg;
  }
}
TEST(Config, RejectsMissingModel) {
  json j = base_hump();
  j.erase("model");
  expect_rejected(j, {"\"model\"", "required"});
}
TEST(Config, RejectsUnknownModel) {
  expect_rejected(with(base_hump(), "model", "lj3d"), {"\"model\"", "lj3d"});
}
TEST(Config, RejectsWrongTypes) {
  expect_rejected(with(base_hump(), "dt", "0.005"), {"\"dt\"", "number"});
  expect_rejected(with(base_hump(), "n_particles", 10.5), {"\"n_particles\"", "integer"});
  expect_rejected(with(base_hump(), "temperatures", 0.5), {"\"temperatures\"", "array"});
  expect_rejected(with(base_hump(), "temperatures", json::array({0.5, "hot"})),
                  {"temperatures[1]", "number"});
  expect_rejected(with(base_hump(), "analyze", 1), {"\"analyze\"", "true or false"});
  expect_rejected(with(base_hump(), "output_dir", 3), {"\"output_dir\"", "string"});
}
TEST(Config, RejectsNonPositiveTemperature) {
  expect_rejected(with(base_hump(), "temperatures", json::array({0.5, 0.0})),
                  {"temperatures[1]", "> 0"});
  expect_rejected(with(base_hump(), "temperatures", json::array({-1.0})),
                  {"temperatures[0]", "> 0"});
  expect_rejected(with(base_hump(), "temperatures", json::array()), {"\"temperatures\"", "empty"});
}
TEST(Config, RejectsTooFewParticles) {
  expect_rejected(with(base_hump(), "n_particles", 1), {"\"n_particles\"", ">= 2"});
}
TEST(Config, RejectsOddNForBinary) {
  expect_rejected(with(base_binary(), "n_particles", 513), {"\"n_particles\"", "multiple of 2"});
}
TEST(Config, RejectsHugeN) {
  expect_rejected(with(base_hump(), "n_particles", 1000000000), {"\"n_particles\"", "too large"});
}
TEST(Config, RejectsDensityThatCannotHoldN) {
  expect_rejected(with(base_hump(), "density", 3.0), {"\"density\"", "too high"});
  expect_rejected(with(base_binary(), "initial_density", 5.0), {"\"initial_density\"", "too high"});
  expect_rejected(with(base_hump(), "density", -0.1), {"\"density\"", "> 0"});
}
TEST(Config, RejectsBoxSmallerThanTwiceTheCutoff) {
  expect_rejected(with(base_hump(), "n_particles", 8), {"\"n_particles\"", "smaller than twice"});
}
TEST(Config, RejectsBadTimeStepAndCouplings) {
  expect_rejected(with(base_hump(), "dt", 0), {"\"dt\"", "> 0"});
  expect_rejected(with(base_hump(), "dt", -0.001), {"\"dt\"", "> 0"});
  expect_rejected(with(base_hump(), "dt", 0.5), {"\"dt\"", "too large"});
  expect_rejected(with(base_hump(), "thermostat_tau", 0), {"\"thermostat_tau\"", "> 0"});
  expect_rejected(with(base_binary(), "barostat_tau", -1), {"\"barostat_tau\"", "> 0"});
  expect_rejected(with(base_binary(), "bulk_modulus", 0), {"\"bulk_modulus\"", "> 0"});
  expect_rejected(with(base_hump(), "skin", 0), {"\"skin\"", "> 0"});
}
// Each model's stable-step bound (ModelInfo::max_stable_dt): accepted at the bound, refused
// above it with the reason.
TEST(Config, TimeStepBoundPerModel) {
  for (const std::string& name : vitrify::model_names()) {
    const vitrify::ModelInfo& m = vitrify::model_info(name);
    ASSERT_GT(m.max_stable_dt, 0.005) << name;  // the default step is always accepted
    ASSERT_LE(m.max_stable_dt, 0.05) << name;
    ASSERT_FALSE(m.max_dt_reason.empty()) << name;
    json j = {{"model", name}, {"temperatures", {1.0}}, {"dt", m.max_stable_dt}};
    EXPECT_NO_THROW(vitrify::parse_config(j, "test")) << name;
    j["dt"] = m.max_stable_dt * 1.01;
    expect_rejected(j, {"\"dt\"", "too large for " + name, m.max_dt_reason});
  }
}
TEST(Config, RejectsEnsembleMismatches) {
  expect_rejected(with(base_binary(), "density", 0.8), {"\"density\"", "npt"});
  expect_rejected(with(base_hump(), "pressure", 1.0), {"\"pressure\"", "npt"});
  expect_rejected(with(base_hump(), "ensemble", "nph"), {"\"ensemble\"", "one of"});
  expect_rejected(with(base_binary(), "pressure", 0), {"\"pressure\"", "> 0"});
}
TEST(Config, RejectsBadRunLengths) {
  expect_rejected(with(base_hump(), "production_steps", 0), {"\"production_steps\"", ">= 1"});
  expect_rejected(with(base_hump(), "melt_steps", -5), {"\"melt_steps\"", ">= 0"});
  expect_rejected(with(base_hump(), "sample_interval", 0), {"\"sample_interval\"", ">= 1"});
  expect_rejected(with(with(base_hump(), "production_steps", 10), "sample_interval", 20),
                  {"\"sample_interval\"", "exceed"});
  expect_rejected(with(base_hump(), "copies_per_temperature", 0),
                  {"\"copies_per_temperature\"", ">= 1"});
  expect_rejected(with(base_hump(), "seed", -1), {"\"seed\"", ">= 0"});
}
TEST(Config, RejectsBadSpeciesAndBackend) {
  expect_rejected(with(base_hump(), "species", "all"), {"\"species\"", "one of"});
  expect_rejected(with(base_hump(), "species", json::array({"c3", "s4"})),
                  {"species[1]", "not a species"});
  expect_rejected(with(base_hump(), "species", json::array({"c3", "c3"})), {"species[1]", "twice"});
  expect_rejected(with(base_hump(), "species_auto_threshold", 2),
                  {"\"species_auto_threshold\"", "(0, 1)"});
  expect_rejected(with(base_hump(), "backend", "gpu"), {"\"backend\"", "one of"});
}
TEST(Config, OnFailureIsStopOrDrop) {
  EXPECT_EQ(vitrify::parse_config(base_hump(), "test.json").on_failure, "stop");
  const auto c = vitrify::parse_config(with(base_hump(), "on_failure", "drop"), "test.json");
  EXPECT_EQ(c.on_failure, "drop");
  EXPECT_EQ(vitrify::to_json(c)["on_failure"], "drop");
  expect_rejected(with(base_hump(), "on_failure", "skip"),
                  {"\"on_failure\"", "one of stop, drop", "\"skip\""});
  expect_rejected(with(base_hump(), "on_failure", true), {"\"on_failure\"", "must be a string"});
}
TEST(Config, StrictJsonParsing) {
  EXPECT_THROW(
      vitrify::parse_json_strict("{\"model\": \"hump2d\", \"model\": \"binary3d\"}", "dup.json"),
      InputError);
  try {
    vitrify::parse_json_strict("{\"model\": \"hump2d\",\n \"dt\": }", "broken.json");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("broken.json"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("line 2"), std::string::npos) << e.what();
  }
  EXPECT_THROW(vitrify::parse_config(json::array({1, 2}), "array.json"), InputError);
  EXPECT_THROW(vitrify::load_config("/nonexistent/config.json"), InputError);
}

TEST(Config, EveryKeyIsDocumented) {
  std::ifstream f(std::string(VITRIFY_SOURCE_DIR_FOR_TESTS) + "/docs/CONFIG.md");
  ASSERT_TRUE(f.good());
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string doc = ss.str();
  for (const auto& key : vitrify::config_keys())
    EXPECT_NE(doc.find("`" + key + "`"), std::string::npos)
        << key << " missing from docs/CONFIG.md";
}

TEST(Config, ShippedInputsAreValid) {
  for (const char* name :
       {"default.json", "demo-hump2d.json", "demo-binary3d.json", "hump2d.json", "binary3d.json",
        "bench-binary3d.json", "demo-kob-andersen.json", "kob-andersen.json",
        "bench-kob-andersen.json", "pt-hump2d.json", "md-hump2d.json", "pt-binary3d.json"}) {
    const std::string path = std::string(VITRIFY_SOURCE_DIR_FOR_TESTS) + "/inputs/" + name;
    EXPECT_NO_THROW(vitrify::load_config(path)) << path;
    // Its resolved form (config.resolved.json of a run) parses back to the same configuration.
    const auto c = vitrify::load_config(path);
    json resolved = vitrify::to_json(c);
    EXPECT_EQ(vitrify::to_json(vitrify::parse_config(resolved, "resolved")), resolved) << path;
  }
  // And in the three ensembles.
  for (const char* ensemble : {"nvt", "npt", "nve"}) {
    json j = base_hump();
    j["ensemble"] = ensemble;
    if (std::string(ensemble) == "npt") {
      j.erase("density");
      j["pressure"] = 5.0;
    }
    const json resolved = vitrify::to_json(vitrify::parse_config(j, "test"));
    EXPECT_EQ(vitrify::to_json(vitrify::parse_config(resolved, "resolved")), resolved) << ensemble;
  }
}

// The ensemble components: every registered name is accepted where its ensemble uses it and
// reaches the engine settings with the seed; other names are rejected naming the key and the
// choices; a component outside its ensemble is rejected.
TEST(Config, ThermostatAndBarostatComponents) {
  json j = with(with(base_binary(), "thermostat", "csvr"), "barostat", "c-rescale");
  j["seed"] = 17;
  const auto c = vitrify::parse_config(j, "test.json");
  EXPECT_EQ(c.thermostat, "csvr");
  EXPECT_EQ(c.barostat, "c-rescale");
  const vitrify::EngineSettings es = vitrify::engine_settings(c);
  EXPECT_EQ(es.thermostat, vitrify::ThermostatKind::kCsvr);
  EXPECT_EQ(es.barostat, vitrify::BarostatKind::kCRescale);
  EXPECT_EQ(es.seed, 17u);
  const auto again = vitrify::parse_config(vitrify::to_json(c), "resolved");
  EXPECT_EQ(again.thermostat, "csvr");
  EXPECT_EQ(again.barostat, "c-rescale");
  const auto d = vitrify::parse_config(base_binary(), "test.json");
  EXPECT_EQ(d.thermostat, "berendsen");
  EXPECT_EQ(d.barostat, "berendsen");
  EXPECT_EQ(vitrify::engine_settings(d).thermostat, vitrify::ThermostatKind::kBerendsen);
  EXPECT_EQ(vitrify::parse_config(with(base_hump(), "thermostat", "csvr"), "t").thermostat, "csvr");
  expect_rejected(with(base_hump(), "thermostat", "nose-hoover"),
                  {"\"thermostat\"", "one of berendsen, csvr", "\"nose-hoover\""});
  expect_rejected(with(base_binary(), "barostat", "crescale"),
                  {"\"barostat\"", "one of berendsen, c-rescale", "\"crescale\""});
  expect_rejected(with(base_hump(), "barostat", "c-rescale"), {"\"barostat\"", "npt"});
  expect_rejected(with(with(base_hump(), "ensemble", "nve"), "thermostat", "csvr"),
                  {"\"thermostat\"", "nve"});
  expect_rejected(with(base_hump(), "thermostat", 1), {"\"thermostat\""});
}

// Parallel tempering: the keys reach the configuration and survive the resolved configuration;
// the stages are written only with exchanges on.
TEST(Config, ReplicaExchangeKeys) {
  json j = with(with(base_hump(), "thermostat", "csvr"), "replica_exchange_interval", 50);
  j["replica_exchange_stages"] = {"equilibrate"};
  const auto c = vitrify::parse_config(j, "test.json");
  EXPECT_EQ(c.replica_exchange_interval, 50);
  EXPECT_TRUE(c.exchanges_in("equilibrate"));
  EXPECT_FALSE(c.exchanges_in("production"));
  json resolved = vitrify::to_json(c);
  resolved.erase("barostat");  // written for every ensemble, refused under nvt
  const auto again = vitrify::parse_config(resolved, "resolved");
  EXPECT_EQ(again.replica_exchange_stages, std::vector<std::string>{"equilibrate"});
  const auto off = vitrify::parse_config(base_hump(), "test.json");
  EXPECT_EQ(off.replica_exchange_interval, 0);
  EXPECT_FALSE(off.exchanges_in("production"));
  EXPECT_FALSE(vitrify::to_json(off).contains("replica_exchange_stages"));
}
