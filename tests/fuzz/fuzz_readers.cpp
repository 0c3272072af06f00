// libFuzzer target: the bytes as a configuration (strict JSON + parse_config) and as an
// extended-XYZ frame for both dimensions (read_xyz + frame_to_state). Bad input must end in
// vitrify::InputError; anything else (another exception, a crash, a sanitizer report) is a bug.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include "vitrify/core/error.hpp"
#include "vitrify/io/config.hpp"
#include "vitrify/io/xyz.hpp"
#include "vitrify/models/model_info.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    vitrify::parse_config(vitrify::parse_json_strict(text, "fuzz.json"), "fuzz.json");
  } catch (const vitrify::InputError&) {
  }
  for (const char* model : {"binary3d", "hump2d"}) {
    const vitrify::ModelInfo& m = vitrify::model_info(model);
    try {
      std::istringstream in(text);
      const vitrify::XyzFrame frame = vitrify::read_xyz(in, "fuzz.xyz", m.dimension);
      vitrify::frame_to_state(frame, m, "fuzz.xyz");
    } catch (const vitrify::InputError&) {
    }
  }
  return 0;
}
