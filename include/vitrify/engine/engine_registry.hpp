#pragma once
// One engine factory per model of AllModels for an execution policy: the CPU and CUDA backends
// build their registries from it, so a model added to the list runs on both.
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "vitrify/engine/replica_engine.hpp"
#include "vitrify/models/all.hpp"

namespace vitrify {

using EngineFactory = std::function<std::unique_ptr<Engine>(const EngineSettings&)>;

// Model name -> factory of ReplicaEngine<Exec, Model>.
template <class Exec>
std::map<std::string, EngineFactory> engine_registry() {
  std::map<std::string, EngineFactory> out;
  for_each_model([&](auto model) {
    using Model = decltype(model);
    const std::string name = Model::info().name;
    out[name] = [name](const EngineSettings& s) {
      return std::unique_ptr<Engine>(new ReplicaEngine<Exec, Model>(name, s));
    };
  });
  return out;
}

}  // namespace vitrify
