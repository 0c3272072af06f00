#pragma once
// Exceptions for problems the user can fix (bad configuration, bad input file). They carry a
// message naming the file/key/place and the reason; the command line prints it once and
// exits with a non-zero code. Numerical failures are reported through SimulationError.
#include <stdexcept>
#include <string>

namespace vitrify {

struct InputError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct SimulationError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace vitrify
