#pragma once
// Checkpoint files of a temperature scan (docs/OUTPUTS.md, "Checkpoints"): everything needed
// to continue a run exactly, in one binary file with a header (magic, format version, payload
// size) and an FNV-1a 64-bit checksum over header and payload. The payload is CBOR (doubles
// and raw arrays stored exactly). Files are written to a temporary name, fsync'ed and renamed;
// the previous checkpoint is kept as checkpoint.prev.bin until the new one is complete.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "vitrify/core/batch_state.hpp"

namespace vitrify {

// Version of the checkpoint layout; files of another version are refused.
constexpr std::uint32_t kCheckpointFormatVersion = 1;

// The state of a scan at a block boundary.
struct RunCheckpoint {
  nlohmann::json config;                    // resolved configuration (to_json) of the run
  int stage = 0;                            // 0 melt, 1 cool, 2 equilibrate, 3 production
  long stage_done = 0;                      // steps done in that stage
  long step = 0;                            // steps done in the whole scan
  bool finished = false;                    // the scan completed and wrote its outputs
  std::vector<std::uint64_t> thermo_bytes;  // length of every thermo CSV at this point
  nlohmann::json sampler;                   // the sampler's state (null before production)
  EngineCheckpoint engine;                  // the replica batch
  // Scan-wide index of every replica of `engine`, ascending (replicas dropped by on_failure
  // "drop" are missing). A file without this field holds replicas 0..n_replicas-1.
  std::vector<int> replicas;
  // The dropped replicas' records (JSON array, see DroppedReplica in scan.hpp).
  nlohmann::json dropped = nlohmann::json::array();
  // Production "until-equilibrated": the replicas whose state point passed and left the batch
  // (scan-wide indices, ascending); their sampler entries stay in `sampler`. Absent: none.
  std::vector<int> retired;
  // The replica-exchange state (src/engine/replica_exchange.hpp); null when exchanges are off.
  nlohmann::json exchange;
};

// The batch replicas `indices` (positions in `in`, in that order) of an engine state: how a
// replica leaves a batch (on_failure "drop") and how a checkpoint is split over processes.
EngineCheckpoint select_replicas(const EngineCheckpoint& in, const std::vector<int>& indices);
// The batches of `parts` one after the other (the largest capacities): how the processes'
// batches are gathered into one checkpoint.
EngineCheckpoint join_replicas(const std::vector<EngineCheckpoint>& parts);

// FNV-1a 64-bit hash of `size` bytes, continuing from `hash`.
std::uint64_t fnv1a64(const void* data, std::size_t size,
                      std::uint64_t hash = 0xcbf29ce484222325ULL);

// Serialises a checkpoint (header + CBOR payload).
std::string encode_checkpoint(const RunCheckpoint& ckpt);
// Parses a checkpoint; InputError naming `source` on a bad magic, version, size or checksum.
RunCheckpoint decode_checkpoint(const std::string& bytes, const std::string& source);

// "<dir>/checkpoint.bin" and "<dir>/checkpoint.prev.bin".
std::string checkpoint_path(const std::string& dir);
std::string previous_checkpoint_path(const std::string& dir);

// Writes <dir>/checkpoint.bin atomically (temporary file, fsync, rename), keeping the former
// checkpoint as checkpoint.prev.bin.
void write_checkpoint(const std::string& dir, const RunCheckpoint& ckpt);

// The newest valid checkpoint of `dir`: checkpoint.bin, or checkpoint.prev.bin with a warning
// when the former is missing, truncated or corrupt. Empty when the directory holds neither
// file; InputError when checkpoint files exist but none is valid. `used` receives the path.
std::optional<RunCheckpoint> load_latest_checkpoint(const std::string& dir,
                                                    std::string* used = nullptr);

// Removes both checkpoint files of `dir` (a fresh start).
void remove_checkpoints(const std::string& dir);

}  // namespace vitrify
