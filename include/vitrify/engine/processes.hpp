#pragma once
// The processes of one run. `vitrify run` started by an MPI launcher (mpirun, srun) in a build
// with MPI runs as one of several processes of MPI_COMM_WORLD; otherwise it is the only
// process and every collective below is a copy or a no-op. The scan driver splits the
// replicas over the processes (docs/RUNNING.md); only process 0 writes files.
#include <cstdint>
#include <string>
#include <vector>

namespace vitrify {

class Processes {
 public:
  // The run's processes: MPI_COMM_WORLD once an MpiSession is alive, else one process.
  static const Processes& world();

  int rank() const { return rank_; }
  int size() const { return size_; }
  bool root() const { return rank_ == 0; }
  // Index of this process among those on the same node (MPI_COMM_TYPE_SHARED): the GPU it
  // uses when each process has one.
  int local_rank() const { return local_rank_; }
  // Name of the node this process runs on.
  const std::string& node_name() const { return node_; }

  // Collectives: every process must call them in the same order.
  // Every process's `mine`, in rank order, on every process.
  std::vector<std::string> all_gather(const std::string& mine) const;
  std::vector<int> all_gather(int mine) const;
  // Every process's `mine`, in rank order, on process 0 (empty elsewhere).
  std::vector<std::string> gather(const std::string& mine) const;
  // Process 0's parts[k] on process k (parts is read on process 0 only, one per process).
  std::string scatter(const std::vector<std::string>& parts) const;
  // `text` of process `from` on every process.
  std::string broadcast(const std::string& text, int from = 0) const;
  // Bitwise OR of every process's `bits`.
  std::uint32_t any(std::uint32_t bits) const;
  // Returns when every process has called it.
  void barrier() const;

 private:
  friend class MpiSession;
  int rank_ = 0, size_ = 1, local_rank_ = 0;
  bool mpi_ = false;
  std::string node_ = "localhost";
};

// Initialises MPI for the lifetime of the object when this build has MPI and the process was
// started by an MPI launcher (its environment holds OMPI_COMM_WORLD_SIZE, PMI_SIZE or
// PMIX_RANK), so that a plain `vitrify run` never touches MPI. Throws InputError when a
// launcher started several processes of a build without MPI (they would all write the same
// output directory).
class MpiSession {
 public:
  MpiSession(int* argc, char*** argv);
  ~MpiSession();
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;

 private:
  bool initialized_ = false;
};

// Whether this build supports multi-process runs.
bool mpi_available();

}  // namespace vitrify
