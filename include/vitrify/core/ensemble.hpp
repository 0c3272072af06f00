#pragma once
// The ensemble of a run and the names of its components (thermostat, barostat). Host and
// device code share these small types; the components' kernel bodies are in
// kernels/ensemble.hpp and their host-side registry in include/vitrify/engine/ensemble.hpp.
namespace vitrify {

enum class Ensemble { kNVE, kNVT, kNPT };

// Thermostat components (EngineSettings::thermostat).
enum class ThermostatKind : int { kBerendsen = 0, kCsvr = 1 };
// Barostat components (EngineSettings::barostat).
enum class BarostatKind : int { kBerendsen = 0, kCRescale = 1 };

}  // namespace vitrify
