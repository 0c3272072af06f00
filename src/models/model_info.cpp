// The model registry: one ModelInfo per entry of AllModels, in list order.
#include "vitrify/models/model_info.hpp"

#include "vitrify/core/error.hpp"
#include "vitrify/models/all.hpp"

namespace vitrify {
namespace {

const std::vector<ModelInfo>& registry() {
  static const std::vector<ModelInfo> models = [] {
    std::vector<ModelInfo> out;
    for_each_model([&](auto model) { out.push_back(decltype(model)::info()); });
    return out;
  }();
  return models;
}

}  // namespace

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
