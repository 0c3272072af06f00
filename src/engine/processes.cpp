#include "vitrify/engine/processes.hpp"

#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <cstring>

#include "vitrify/core/error.hpp"

#ifdef VITRIFY_HAVE_MPI
#include <mpi.h>
#endif

namespace vitrify {
namespace {

Processes g_world;

// Set by the launchers that start the processes of an MPI job: OpenMPI's mpirun (OMPI_*),
// MPICH's Hydra and Slurm's srun --mpi=pmi2 (PMI_*), PMIx launchers such as srun --mpi=pmix
// and OpenMPI 5 (PMIX_RANK).
bool started_by_mpi_launcher(int* size) {
  *size = 0;
  for (const char* var : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"})
    if (const char* v = std::getenv(var)) *size = std::max(*size, std::atoi(v));
  return *size > 0 || std::getenv("PMIX_RANK") != nullptr;
}

}  // namespace

const Processes& Processes::world() { return g_world; }

bool mpi_available() {
#ifdef VITRIFY_HAVE_MPI
  return true;
#else
  return false;
#endif
}

#ifdef VITRIFY_HAVE_MPI
namespace {

// Messages travel in pieces below MPI's int count limit.
constexpr std::size_t kPiece = std::size_t(1) << 30;

void check(int err, const char* what) {
  if (err != MPI_SUCCESS) {
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(err, text, &len);
    throw SimulationError(std::string(what) + " failed: " + std::string(text, len));
  }
}

void send_bytes(const std::string& s, int to) {
  std::uint64_t n = s.size();
  check(MPI_Send(&n, 1, MPI_UINT64_T, to, 0, MPI_COMM_WORLD), "MPI_Send");
  for (std::size_t at = 0; at < s.size(); at += kPiece)
    check(MPI_Send(s.data() + at, static_cast<int>(std::min(kPiece, s.size() - at)), MPI_BYTE, to,
                   0, MPI_COMM_WORLD),
          "MPI_Send");
}

std::string recv_bytes(int from) {
  std::uint64_t n = 0;
  check(MPI_Recv(&n, 1, MPI_UINT64_T, from, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE), "MPI_Recv");
  std::string s(n, '\0');
  for (std::size_t at = 0; at < s.size(); at += kPiece)
    check(MPI_Recv(&s[at], static_cast<int>(std::min(kPiece, s.size() - at)), MPI_BYTE, from, 0,
                   MPI_COMM_WORLD, MPI_STATUS_IGNORE),
          "MPI_Recv");
  return s;
}

// Several strings in one: a count, then each length and its bytes.
std::string pack(const std::vector<std::string>& parts) {
  std::string out;
  auto put = [&](std::uint64_t v) { out.append(reinterpret_cast<const char*>(&v), sizeof v); };
  put(parts.size());
  for (const auto& p : parts) {
    put(p.size());
    out += p;
  }
  return out;
}

std::vector<std::string> unpack(const std::string& s) {
  std::size_t at = 0;
  auto get = [&]() {
    std::uint64_t v = 0;
    std::memcpy(&v, s.data() + at, sizeof v);
    at += sizeof v;
    return v;
  };
  std::vector<std::string> parts(get());
  for (auto& p : parts) {
    const std::uint64_t n = get();
    p = s.substr(at, n);
    at += n;
  }
  return parts;
}

}  // namespace

std::vector<std::string> Processes::gather(const std::string& mine) const {
  if (!mpi_) return {mine};
  if (!root()) {
    send_bytes(mine, 0);
    return {};
  }
  std::vector<std::string> all(size_);
  all[0] = mine;
  for (int k = 1; k < size_; ++k) all[k] = recv_bytes(k);
  return all;
}

std::string Processes::scatter(const std::vector<std::string>& parts) const {
  if (!mpi_) return parts.at(0);
  if (!root()) return recv_bytes(0);
  for (int k = 1; k < size_; ++k) send_bytes(parts.at(k), k);
  return parts.at(0);
}

std::string Processes::broadcast(const std::string& text, int from) const {
  if (!mpi_) return text;
  std::uint64_t n = text.size();
  check(MPI_Bcast(&n, 1, MPI_UINT64_T, from, MPI_COMM_WORLD), "MPI_Bcast");
  std::string out = rank_ == from ? text : std::string(n, '\0');
  for (std::size_t at = 0; at < out.size(); at += kPiece)
    check(MPI_Bcast(&out[at], static_cast<int>(std::min(kPiece, out.size() - at)), MPI_BYTE, from,
                    MPI_COMM_WORLD),
          "MPI_Bcast");
  return out;
}

std::vector<std::string> Processes::all_gather(const std::string& mine) const {
  if (!mpi_) return {mine};
  const std::vector<std::string> parts = gather(mine);
  return unpack(broadcast(root() ? pack(parts) : std::string()));
}

std::vector<int> Processes::all_gather(int mine) const {
  if (!mpi_) return {mine};
  std::vector<int> all(size_);
  check(MPI_Allgather(&mine, 1, MPI_INT, all.data(), 1, MPI_INT, MPI_COMM_WORLD), "MPI_Allgather");
  return all;
}

std::uint32_t Processes::any(std::uint32_t bits) const {
  if (!mpi_) return bits;
  std::uint32_t out = 0;
  check(MPI_Allreduce(&bits, &out, 1, MPI_UINT32_T, MPI_BOR, MPI_COMM_WORLD), "MPI_Allreduce");
  return out;
}

void Processes::barrier() const {
  if (mpi_) check(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");
}

MpiSession::MpiSession(int* argc, char*** argv) {
  int launched = 0;
  if (!started_by_mpi_launcher(&launched)) return;
  int provided = 0;
  // Only the main thread calls MPI (OpenMP threads never do).
  check(MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
  initialized_ = true;
  Processes& w = g_world;
  MPI_Comm_rank(MPI_COMM_WORLD, &w.rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &w.size_);
  MPI_Comm node;
  check(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, w.rank_, MPI_INFO_NULL, &node),
        "MPI_Comm_split_type");
  MPI_Comm_rank(node, &w.local_rank_);
  MPI_Comm_free(&node);
  char name[MPI_MAX_PROCESSOR_NAME];
  int len = 0;
  MPI_Get_processor_name(name, &len);
  w.node_.assign(name, len);
  w.mpi_ = w.size_ > 1;
}

MpiSession::~MpiSession() {
  if (!initialized_) return;
  g_world = Processes();
  MPI_Finalize();
}

#else  // one process: the collectives copy

std::vector<std::string> Processes::gather(const std::string& mine) const { return {mine}; }
std::string Processes::scatter(const std::vector<std::string>& parts) const { return parts.at(0); }
std::string Processes::broadcast(const std::string& text, int) const { return text; }
std::vector<std::string> Processes::all_gather(const std::string& mine) const { return {mine}; }
std::vector<int> Processes::all_gather(int mine) const { return {mine}; }
std::uint32_t Processes::any(std::uint32_t bits) const { return bits; }
void Processes::barrier() const {}

MpiSession::MpiSession(int*, char***) {
  int launched = 0;
  if (started_by_mpi_launcher(&launched) && launched > 1)
    throw InputError("vitrify was started as one of " + std::to_string(launched) +
                     " processes by an MPI launcher, but this build has no MPI (install "
                     "libopenmpi-dev and rebuild; docs/RUNNING.md)");
}
MpiSession::~MpiSession() = default;

#endif

}  // namespace vitrify
