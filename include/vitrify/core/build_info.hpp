#pragma once
// What built this binary, for the provenance records of the outputs (docs/OUTPUTS.md).
#include <string>

namespace vitrify {

// The project version ("0.1.0").
std::string vitrify_version();
// `git describe --always --dirty` of the source tree when the build ran (e.g.
// "e4e65f6a1b2c-dirty"), or "unknown" when it was not a git checkout.
std::string vitrify_git_commit();

}  // namespace vitrify
