#include "vitrify/engine/model_info.hpp"

#include <cmath>

#include "vitrify/core/error.hpp"
#include "vitrify/models/binary3d.hpp"
#include "vitrify/models/hump2d.hpp"

namespace vitrify {
namespace {

ModelInfo make_binary3d() {
  ModelInfo m;
  m.name = "binary3d";
  m.dimension = 3;
  m.n_types = 2;
  m.type_names = {"S", "L"};
  m.type_fractions = {0.5, 0.5};
  m.default_ensemble = "npt";
  m.default_density = 0.74;
  m.default_pressure = 10.0;
  m.default_initial_density = 0.6;
  m.max_cutoff = std::sqrt(8.0 / 6.0) * 1.4;
  m.min_init_distance = 0.8;
  m.isf_k = Binary3d::isf_k;
  m.isf_types = {1};
  for (int n = 3; n <= 10; ++n) m.paper_species.push_back({"s" + std::to_string(n), 0, n});
  for (int n = 6; n <= 14; ++n) m.paper_species.push_back({"l" + std::to_string(n), 1, n});
  return m;
}

ModelInfo make_hump2d() {
  ModelInfo m;
  m.name = "hump2d";
  m.dimension = 2;
  m.n_types = 1;
  m.type_names = {"A"};
  m.type_fractions = {1.0};
  m.default_ensemble = "nvt";
  m.default_density = 0.825;  // provisional, see docs/CONFIG.md
  m.default_pressure = 1.0;
  m.default_initial_density = 0.825;
  m.max_cutoff = 1.65;
  m.min_init_distance = 0.85;
  m.isf_k = Hump2d::isf_k;
  m.isf_types = {0};
  for (int n = 2; n <= 6; ++n) m.paper_species.push_back({"c" + std::to_string(n), 0, n});
  return m;
}

const std::vector<ModelInfo>& registry() {
  static const std::vector<ModelInfo> models = {make_binary3d(), make_hump2d()};
  return models;
}

}  // namespace

std::string ModelInfo::species_prefix(int type) const {
  if (name == "binary3d") return type == 0 ? "s" : "l";
  return "c";
}

const ModelInfo& model_info(const std::string& name) {
  for (const auto& m : registry())
    if (m.name == name) return m;
  std::string known;
  for (const auto& m : registry()) known += (known.empty() ? "" : ", ") + m.name;
  throw InputError("unknown model \"" + name + "\" (known: " + known + ")");
}

std::vector<std::string> model_names() {
  std::vector<std::string> out;
  for (const auto& m : registry()) out.push_back(m.name);
  return out;
}

}  // namespace vitrify
