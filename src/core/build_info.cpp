#include "vitrify/core/build_info.hpp"

#include "vitrify/build_info_generated.hpp"

namespace vitrify {

std::string vitrify_version() { return generated::kVersion; }
std::string vitrify_git_commit() { return generated::kGitCommit; }

}  // namespace vitrify
