#include "vitrify/io/checkpoint.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "vitrify/core/error.hpp"
#include "vitrify/core/observables.hpp"
#include "vitrify/models/model_info.hpp"

namespace vitrify {
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

constexpr char kMagic[8] = {'V', 'I', 'T', 'R', 'C', 'K', 'P', 'T'};
// magic (8), version (4), real size in bytes (4), payload size (8), checksum (8).
constexpr std::size_t kHeaderSize = 32;

void put_u64(std::string& s, std::size_t at, std::uint64_t v) {
  for (int b = 0; b < 8; ++b) s[at + b] = static_cast<char>((v >> (8 * b)) & 0xff);
}
void put_u32(std::string& s, std::size_t at, std::uint32_t v) {
  for (int b = 0; b < 4; ++b) s[at + b] = static_cast<char>((v >> (8 * b)) & 0xff);
}
std::uint64_t get_u64(const std::string& s, std::size_t at) {
  std::uint64_t v = 0;
  for (int b = 7; b >= 0; --b) v = (v << 8) | static_cast<unsigned char>(s[at + b]);
  return v;
}
std::uint32_t get_u32(const std::string& s, std::size_t at) {
  std::uint32_t v = 0;
  for (int b = 3; b >= 0; --b) v = (v << 8) | static_cast<unsigned char>(s[at + b]);
  return v;
}

// The BatchState arrays of the engine object; its other byte strings are the engine's saved
// arrays (EngineCheckpoint::arrays).
bool is_batch_state_field(const std::string& key) {
  for (const char* k : {"x", "y", "z", "vx", "vy", "vz", "type", "img_x", "img_y", "img_z", "box"})
    if (key == k) return true;
  return false;
}

// Arrays travel as raw bytes (exact, compact) inside the CBOR document.
template <class T>
json blob(const std::vector<T>& v) {
  std::vector<std::uint8_t> bytes(v.size() * sizeof(T));
  if (!bytes.empty()) std::memcpy(bytes.data(), v.data(), bytes.size());
  return json::binary(std::move(bytes));
}

template <class T>
std::vector<T> unblob(const json& j, const std::string& key) {
  if (!j.is_object() || !j.contains(key))
    throw InputError("checkpoint field \"" + key + "\" is missing");
  if (!j.at(key).is_binary())
    throw InputError("checkpoint field \"" + key + "\" is not a byte string");
  const auto& bytes = j.at(key).get_binary();
  if (bytes.size() % sizeof(T) != 0)
    throw InputError("checkpoint field \"" + key + "\" has a bad size");
  std::vector<T> v(bytes.size() / sizeof(T));
  if (!v.empty()) std::memcpy(v.data(), bytes.data(), bytes.size());
  return v;
}

// j[key] converted to T; a missing key or a wrong type names the field.
template <class T>
T field(const json& j, const std::string& key) {
  if (!j.is_object() || !j.contains(key))
    throw InputError("checkpoint field \"" + key + "\" is missing");
  try {
    return j.at(key).get<T>();
  } catch (const json::exception&) {
    throw InputError("checkpoint field \"" + key + "\" has the wrong type (" +
                     j.at(key).type_name() + ")");
  }
}

std::uint64_t header_checksum(const std::string& file, std::size_t payload_size) {
  std::uint64_t h = fnv1a64(file.data(), 24);
  return fnv1a64(file.data() + kHeaderSize, payload_size, h);
}

// Writes `bytes` to `path` with POSIX calls and fsyncs it.
void write_synced(const std::string& path, const std::string& bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw InputError("cannot write " + path + ": " + std::strerror(errno));
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t w = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      const std::string why = std::strerror(errno);
      ::close(fd);
      throw InputError("write failed for " + path + ": " + why);
    }
    done += static_cast<std::size_t>(w);
  }
  if (::fsync(fd) != 0) {
    const std::string why = std::strerror(errno);
    ::close(fd);
    throw InputError("fsync failed for " + path + ": " + why);
  }
  ::close(fd);
}

void sync_directory(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

// A checkpoint to resume must describe a consistent batch before an engine touches it: the array
// sizes, the particle types, finite positions and boxes, and bounded capacities.
void validate_decoded(const RunCheckpoint& c) {
  const EngineCheckpoint& e = c.engine;
  const BatchState& s = e.state;
  if (c.stage < 0 || c.stage > 3)
    throw InputError("stage " + std::to_string(c.stage) + " is not 0..3");
  if (c.stage_done < 0 || c.step < 0 || c.step < c.stage_done)
    throw InputError("negative or inconsistent step counts (step " + std::to_string(c.step) +
                     ", stage_done " + std::to_string(c.stage_done) + ")");
  if (s.n_replicas < 1 || s.n < 1 || s.n_replicas > 100000 || s.n > 50'000'000)
    throw InputError("batch size out of range (" + std::to_string(s.n_replicas) + " replicas of " +
                     std::to_string(s.n) + " particles)");
  if (s.dim != 2 && s.dim != 3)
    throw InputError("dimension " + std::to_string(s.dim) + " is not 2 or 3");
  int n_types = 0;
  if (c.config.is_object() && c.config.contains("model") && c.config.at("model").is_string()) {
    const std::string model = c.config.at("model").get<std::string>();
    for (const auto& name : model_names())
      if (name == model) {
        const ModelInfo& m = model_info(model);
        if (m.dimension != s.dim)
          throw InputError("dimension " + std::to_string(s.dim) + " does not match model " + model);
        n_types = m.n_types;
      }
  }
  if (n_types == 0) throw InputError("the saved configuration names no known model");
  const std::size_t R = static_cast<std::size_t>(s.n_replicas), nt = R * s.n;
  auto need = [](const char* key, std::size_t have, std::size_t want) {
    if (have != want)
      throw InputError("checkpoint field \"" + std::string(key) + "\" holds " +
                       std::to_string(have) + " values, expected " + std::to_string(want));
  };
  need("x", s.x.size(), nt);
  need("y", s.y.size(), nt);
  need("z", s.z.size(), nt);
  need("vx", s.vx.size(), nt);
  need("vy", s.vy.size(), nt);
  need("vz", s.vz.size(), nt);
  need("type", s.type.size(), nt);
  need("img_x", s.img_x.size(), nt);
  need("img_y", s.img_y.size(), nt);
  need("img_z", s.img_z.size(), nt);
  need("box", s.box.size(), 3 * R);
  // The engine's saved arrays: each splits into equal per-replica parts; the ones every
  // engine saves are checked in full (the engine checks the rest when it loads them).
  for (const auto& [name, a] : e.arrays)
    if (R == 0 || a.bytes.size() % R != 0)
      throw InputError("checkpoint field \"" + name + "\" does not split into " +
                       std::to_string(R) + " replicas");
  auto saved = [&](const char* key, std::size_t elem_bytes, std::size_t want) {
    const auto it = e.arrays.find(key);
    if (it == e.arrays.end())
      throw InputError("checkpoint field \"" + std::string(key) + "\" is missing");
    need(key, it->second.bytes.size() / elem_bytes, want);
  };
  saved("x_last", sizeof(real), nt);
  saved("y_last", sizeof(real), nt);
  saved("z_last", sizeof(real), nt);
  saved("box_last", sizeof(real), 3 * R);
  saved("observables", sizeof(double), R * kObsCount);
  saved("rebuild_count", sizeof(int), R);
  const std::vector<real> box_last = e.arrays.at("box_last").as<real>();
  need("replicas", c.replicas.size(), R);
  if (!c.dropped.is_array()) throw InputError("checkpoint field \"dropped\" is not an array");
  for (int r : c.retired)
    if (std::count(c.replicas.begin(), c.replicas.end(), r) > 0)
      throw InputError("checkpoint field \"retired\" holds replica " + std::to_string(r) +
                       ", which is in the batch");
  need("thermo_bytes", c.thermo_bytes.size(), R + c.dropped.size() + c.retired.size());
  for (int r : c.retired)
    if (r < 0 || static_cast<std::size_t>(r) >= c.thermo_bytes.size())
      throw InputError("checkpoint field \"retired\" holds the replica " + std::to_string(r) +
                       ", out of range");
  for (std::size_t k = 0; k < R; ++k)
    if (c.replicas[k] < 0 || static_cast<std::size_t>(c.replicas[k]) >= c.thermo_bytes.size() ||
        (k > 0 && c.replicas[k] <= c.replicas[k - 1]))
      throw InputError("checkpoint field \"replicas\" is not an ascending list of indices below " +
                       std::to_string(c.thermo_bytes.size()));
  for (std::size_t i = 0; i < nt; ++i)
    if (s.type[i] < 0 || s.type[i] >= n_types)
      throw InputError("checkpoint field \"type\" holds the invalid type " +
                       std::to_string(s.type[i]) + " at index " + std::to_string(i));
  for (std::size_t i = 0; i < 3 * R; ++i)
    if (!(std::isfinite(s.box[i]) && s.box[i] > 0) ||
        !(std::isfinite(box_last[i]) && box_last[i] > 0))
      throw InputError("checkpoint field \"box\" holds a box edge that is not finite and > 0");
  const std::vector<real> x_last = e.arrays.at("x_last").as<real>(),
                          y_last = e.arrays.at("y_last").as<real>(),
                          z_last = e.arrays.at("z_last").as<real>();
  for (const auto* v : {&s.x, &s.y, &s.z, &s.vx, &s.vy, &s.vz, &x_last, &y_last, &z_last})
    for (real x : *v)
      if (!std::isfinite(x)) throw InputError("checkpoint holds a non-finite position or velocity");
  const long cap = 2L * s.n + 16;
  if (e.max_neighbors < 1 || e.max_neighbors > cap || e.cell_capacity < 1 || e.cell_capacity > cap)
    throw InputError("neighbour capacities out of range (max_neighbors " +
                     std::to_string(e.max_neighbors) + ", cell_capacity " +
                     std::to_string(e.cell_capacity) + ")");
}

std::optional<RunCheckpoint> try_load(const std::string& path, std::string& error) {
  std::ifstream f(path, std::ios::binary);
  if (!f) {
    error = "cannot be read";
    return std::nullopt;
  }
  std::stringstream ss;
  ss << f.rdbuf();
  try {
    RunCheckpoint c = decode_checkpoint(ss.str(), path);
    try {
      validate_decoded(c);
    } catch (const InputError& e) {
      throw InputError(path + ": " + e.what());
    }
    return c;
  } catch (const std::exception& e) {
    error = e.what();
    return std::nullopt;
  }
}

}  // namespace

std::uint64_t fnv1a64(const void* data, std::size_t size, std::uint64_t hash) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (std::size_t i = 0; i < size; ++i) {
    hash ^= p[i];
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

std::string encode_checkpoint(const RunCheckpoint& c) {
  const EngineCheckpoint& e = c.engine;
  const BatchState& s = e.state;
  json j;
  j["config"] = c.config;
  j["stage"] = c.stage;
  j["stage_done"] = c.stage_done;
  j["step"] = c.step;
  j["finished"] = c.finished;
  j["thermo_bytes"] = c.thermo_bytes;
  j["sampler"] = c.sampler;
  j["replicas"] = c.replicas;
  j["dropped"] = c.dropped;
  if (!c.retired.empty()) j["retired"] = c.retired;
  if (!c.exchange.is_null()) j["exchange"] = c.exchange;
  json b;
  b["n_replicas"] = s.n_replicas;
  b["n"] = s.n;
  b["dim"] = s.dim;
  b["x"] = blob(s.x);
  b["y"] = blob(s.y);
  b["z"] = blob(s.z);
  b["vx"] = blob(s.vx);
  b["vy"] = blob(s.vy);
  b["vz"] = blob(s.vz);
  b["type"] = blob(s.type);
  b["img_x"] = blob(s.img_x);
  b["img_y"] = blob(s.img_y);
  b["img_z"] = blob(s.img_z);
  b["box"] = blob(s.box);
  for (const auto& [name, a] : e.arrays) b[name] = json::binary(a.bytes);
  b["max_neighbors"] = e.max_neighbors;
  b["cell_capacity"] = e.cell_capacity;
  j["engine"] = b;
  const std::vector<std::uint8_t> payload = json::to_cbor(j);

  std::string out(kHeaderSize + payload.size(), '\0');
  std::memcpy(&out[0], kMagic, 8);
  put_u32(out, 8, kCheckpointFormatVersion);
  put_u32(out, 12, static_cast<std::uint32_t>(sizeof(real)));
  put_u64(out, 16, payload.size());
  if (!payload.empty()) std::memcpy(&out[kHeaderSize], payload.data(), payload.size());
  put_u64(out, 24, header_checksum(out, payload.size()));
  return out;
}

RunCheckpoint decode_checkpoint(const std::string& bytes, const std::string& source) {
  if (bytes.size() < kHeaderSize || std::memcmp(bytes.data(), kMagic, 8) != 0)
    throw InputError(source + ": not a vitrify checkpoint (or truncated header)");
  const std::uint32_t version = get_u32(bytes, 8);
  if (version != kCheckpointFormatVersion)
    throw InputError(source + ": checkpoint format version " + std::to_string(version) +
                     ", this build reads version " + std::to_string(kCheckpointFormatVersion));
  const std::uint32_t real_bytes = get_u32(bytes, 12);
  const std::uint64_t size = get_u64(bytes, 16);
  if (size != bytes.size() - kHeaderSize)
    throw InputError(source + ": truncated checkpoint (" + std::to_string(bytes.size()) +
                     " bytes, header announces " + std::to_string(size + kHeaderSize) + ")");
  if (get_u64(bytes, 24) != header_checksum(bytes, size))
    throw InputError(source + ": checkpoint checksum mismatch (corrupt file)");
  if (real_bytes != sizeof(real))
    throw InputError(source + ": checkpoint written by a build with " + std::to_string(real_bytes) +
                     "-byte reals, this build uses " + std::to_string(sizeof(real)));
  json j;
  try {
    j = json::from_cbor(bytes.begin() + kHeaderSize, bytes.end());
  } catch (const json::exception& e) {
    throw InputError(source + ": unreadable checkpoint payload: " + e.what());
  }
  RunCheckpoint c;
  try {
    if (!j.is_object()) throw InputError("the checkpoint payload is not an object");
    c.config = field<json>(j, "config");
    c.stage = field<int>(j, "stage");
    c.stage_done = field<long>(j, "stage_done");
    c.step = field<long>(j, "step");
    c.finished = field<bool>(j, "finished");
    c.thermo_bytes = field<std::vector<std::uint64_t>>(j, "thermo_bytes");
    c.sampler = field<json>(j, "sampler");
    if (!j.contains("engine") || !j.at("engine").is_object())
      throw InputError("checkpoint field \"engine\" is missing or not an object");
    const json& b = j.at("engine");
    EngineCheckpoint& e = c.engine;
    BatchState& s = e.state;
    s.n_replicas = field<int>(b, "n_replicas");
    s.n = field<int>(b, "n");
    s.dim = field<int>(b, "dim");
    s.x = unblob<real>(b, "x");
    s.y = unblob<real>(b, "y");
    s.z = unblob<real>(b, "z");
    s.vx = unblob<real>(b, "vx");
    s.vy = unblob<real>(b, "vy");
    s.vz = unblob<real>(b, "vz");
    s.type = unblob<int>(b, "type");
    s.img_x = unblob<int>(b, "img_x");
    s.img_y = unblob<int>(b, "img_y");
    s.img_z = unblob<int>(b, "img_z");
    s.box = unblob<real>(b, "box");
    // Every other byte string of the engine object is one of the engine's saved arrays.
    for (auto it = b.begin(); it != b.end(); ++it)
      if (it.value().is_binary() && !is_batch_state_field(it.key()))
        e.arrays[it.key()].bytes = it.value().get_binary();
    e.max_neighbors = field<int>(b, "max_neighbors");
    e.cell_capacity = field<int>(b, "cell_capacity");
    // Written since on_failure "drop" and multi-process runs; older files hold every replica.
    if (j.contains("replicas")) {
      c.replicas = field<std::vector<int>>(j, "replicas");
    } else if (s.n_replicas > 0 && s.n_replicas <= 100000) {  // else refused by validation
      c.replicas.resize(s.n_replicas);
      for (std::size_t k = 0; k < c.replicas.size(); ++k) c.replicas[k] = static_cast<int>(k);
    }
    if (j.contains("dropped")) c.dropped = field<json>(j, "dropped");
    if (j.contains("retired")) c.retired = field<std::vector<int>>(j, "retired");
    if (j.contains("exchange")) c.exchange = field<json>(j, "exchange");
  } catch (const json::exception& e) {
    throw InputError(source + ": incomplete checkpoint: " + e.what());
  } catch (const InputError& e) {
    throw InputError(source + ": " + e.what());
  }
  return c;
}

namespace {

// Copies replica `r` of `from` (per_replica values each) to the end of `to`.
template <class T>
void append_replica(std::vector<T>& to, const std::vector<T>& from, int replicas, int r) {
  if (replicas == 0) return;
  const std::size_t per = from.size() / static_cast<std::size_t>(replicas);
  to.insert(to.end(), from.begin() + r * per, from.begin() + (r + 1) * per);
}

}  // namespace

EngineCheckpoint select_replicas(const EngineCheckpoint& in, const std::vector<int>& indices) {
  const BatchState& s = in.state;
  const int R = s.n_replicas;
  EngineCheckpoint out;
  BatchState& o = out.state;
  o.n_replicas = static_cast<int>(indices.size());
  o.n = s.n;
  o.dim = s.dim;
  for (int r : indices) {
    if (r < 0 || r >= R)
      throw std::out_of_range("select_replicas: replica " + std::to_string(r) + " of " +
                              std::to_string(R));
    append_replica(o.x, s.x, R, r);
    append_replica(o.y, s.y, R, r);
    append_replica(o.z, s.z, R, r);
    append_replica(o.vx, s.vx, R, r);
    append_replica(o.vy, s.vy, R, r);
    append_replica(o.vz, s.vz, R, r);
    append_replica(o.type, s.type, R, r);
    append_replica(o.img_x, s.img_x, R, r);
    append_replica(o.img_y, s.img_y, R, r);
    append_replica(o.img_z, s.img_z, R, r);
    append_replica(o.box, s.box, R, r);
    for (const auto& [name, a] : in.arrays) append_replica(out.arrays[name].bytes, a.bytes, R, r);
  }
  out.max_neighbors = in.max_neighbors;
  out.cell_capacity = in.cell_capacity;
  return out;
}

EngineCheckpoint join_replicas(const std::vector<EngineCheckpoint>& parts) {
  EngineCheckpoint out;
  BatchState& o = out.state;
  bool first = true;
  auto cat = [](auto& to, const auto& from) { to.insert(to.end(), from.begin(), from.end()); };
  for (const EngineCheckpoint& p : parts) {
    const BatchState& s = p.state;
    if (s.n_replicas == 0) continue;
    if (first) {
      o.n = s.n;
      o.dim = s.dim;
      first = false;
    } else if (s.n != o.n || s.dim != o.dim) {
      throw std::invalid_argument("join_replicas: batches of different particle numbers");
    }
    o.n_replicas += s.n_replicas;
    cat(o.x, s.x);
    cat(o.y, s.y);
    cat(o.z, s.z);
    cat(o.vx, s.vx);
    cat(o.vy, s.vy);
    cat(o.vz, s.vz);
    cat(o.type, s.type);
    cat(o.img_x, s.img_x);
    cat(o.img_y, s.img_y);
    cat(o.img_z, s.img_z);
    cat(o.box, s.box);
    for (const auto& [name, a] : p.arrays) cat(out.arrays[name].bytes, a.bytes);
    out.max_neighbors = std::max(out.max_neighbors, p.max_neighbors);
    out.cell_capacity = std::max(out.cell_capacity, p.cell_capacity);
  }
  return out;
}

std::string checkpoint_path(const std::string& dir) { return dir + "/checkpoint.bin"; }
std::string previous_checkpoint_path(const std::string& dir) {
  return dir + "/checkpoint.prev.bin";
}

void write_checkpoint(const std::string& dir, const RunCheckpoint& ckpt) {
  const std::string path = checkpoint_path(dir), prev = previous_checkpoint_path(dir);
  const std::string tmp = path + ".tmp";
  write_synced(tmp, encode_checkpoint(ckpt));
  std::error_code ec;
  // Until the second rename, checkpoint.prev.bin is the newest complete checkpoint.
  if (fs::exists(path)) {
    fs::rename(path, prev, ec);
    if (ec) throw InputError("cannot rename " + path + " to " + prev + ": " + ec.message());
  }
  fs::rename(tmp, path, ec);
  if (ec) throw InputError("cannot rename " + tmp + " to " + path + ": " + ec.message());
  sync_directory(dir);
}

std::optional<RunCheckpoint> load_latest_checkpoint(const std::string& dir, std::string* used) {
  const std::string path = checkpoint_path(dir), prev = previous_checkpoint_path(dir);
  const bool have = fs::exists(path), have_prev = fs::exists(prev);
  if (!have && !have_prev) return std::nullopt;
  std::string error, error_prev;
  if (have) {
    if (auto c = try_load(path, error)) {
      if (used) *used = path;
      return c;
    }
  }
  if (have_prev) {
    if (auto c = try_load(prev, error_prev)) {
      if (have)
        spdlog::warn("{} is not usable ({}); resuming from the previous checkpoint {}", path, error,
                     prev);
      if (used) *used = prev;
      return c;
    }
  }
  throw InputError("no valid checkpoint in " + dir + (have ? ": " + error : "") +
                   (have_prev ? (have ? "; " : ": ") + error_prev : "") +
                   " (use --force to start the run over)");
}

void remove_checkpoints(const std::string& dir) {
  std::error_code ec;
  fs::remove(checkpoint_path(dir), ec);
  fs::remove(previous_checkpoint_path(dir), ec);
  fs::remove(checkpoint_path(dir) + ".tmp", ec);
}

}  // namespace vitrify
