#pragma once
// The host-side registry of the ensemble components: their configuration names, the
// per-replica state each keeps, and what they do. The kernel bodies are in
// kernels/ensemble.hpp; the engine sizes, checkpoints and block-restores their state from
// state_size (ReplicaEngine::for_each_array).
#include <string>
#include <vector>

#include "vitrify/core/ensemble.hpp"

namespace vitrify {

struct ThermostatInfo {
  ThermostatKind kind;
  const char* name;  // the configuration's "thermostat" value
  int state_size;    // doubles of per-replica state (stochastic kinds: their step counter)
  const char* summary;
};

struct BarostatInfo {
  BarostatKind kind;
  const char* name;  // the configuration's "barostat" value
  int state_size;    // doubles of per-replica state
  const char* summary;
};

inline const std::vector<ThermostatInfo>& thermostats() {
  static const std::vector<ThermostatInfo> list = {
      {ThermostatKind::kBerendsen, "berendsen", 0,
       "Berendsen weak coupling (relaxes T; does not sample the canonical ensemble)"},
      {ThermostatKind::kCsvr, "csvr", 1,
       "stochastic velocity rescaling, CSVR (Bussi, Donadio & Parrinello 2007; canonical)"},
  };
  return list;
}

inline const std::vector<BarostatInfo>& barostats() {
  static const std::vector<BarostatInfo> list = {
      {BarostatKind::kBerendsen, "berendsen", 0,
       "isotropic Berendsen weak coupling (relaxes p; does not sample the NPT ensemble)"},
      {BarostatKind::kCRescale, "c-rescale", 1,
       "isotropic stochastic cell rescaling (Bernetti & Bussi 2020; samples NPT)"},
  };
  return list;
}

inline const ThermostatInfo& thermostat_info(ThermostatKind kind) {
  for (const auto& t : thermostats())
    if (t.kind == kind) return t;
  return thermostats().front();
}

inline const BarostatInfo& barostat_info(BarostatKind kind) {
  for (const auto& b : barostats())
    if (b.kind == kind) return b;
  return barostats().front();
}

}  // namespace vitrify
