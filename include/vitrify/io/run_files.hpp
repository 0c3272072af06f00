#pragma once
// The files a run directory holds (docs/OUTPUTS.md, "The run directory"): what `vitrify run`
// writes, what `vitrify analyze` adds and what `tools/report` makes from them. `vitrify run
// --force` removes exactly these (and nothing else a user keeps there) before it starts over.
#include <string>
#include <vector>

namespace vitrify {

// Whether `relative` (a path relative to a run directory, '/'-separated, such as
// "snapshots/replica_003.xyz") names a file of a run: the fixed names of docs/OUTPUTS.md,
// thermo/replica_NNN.csv, snapshots/replica_NNN.xyz, report/ figures and report.md, and the
// temporary ".tmp" files of atomic writes of any of them.
bool is_run_output(const std::string& relative);

// Removes every file of `dir` that is_run_output() names, then the folders thermo/,
// snapshots/ and report/ when that leaves them empty. vitrify.log is left alone unless
// `include_log` (the command line owns the log, run_scan the rest). Returns the removed
// files (relative paths, sorted); a missing `dir` removes nothing.
std::vector<std::string> remove_run_outputs(const std::string& dir, bool include_log);

}  // namespace vitrify
