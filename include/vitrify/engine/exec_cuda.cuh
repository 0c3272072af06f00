#pragma once
// CUDA execution policy: memory is device memory (RAII buffers), `launch` runs a kernel body
// once per index through the generic __global__ wrapper of kernels/launch_cuda.cuh. The same
// ReplicaEngine<Exec, Model> step loop as on the CPU runs on top of it. nvcc only: included
// from kernels/*.cu, never from host headers.
//
// Every CUDA API error becomes a vitrify::SimulationError naming the call and CUDA's error
// string; an out-of-memory error also names the request and the device's free/total memory.
// Kernel launches are asynchronous: a fault inside a kernel is reported by the next call that
// synchronises (a download), and the message says so.
//
// Everything runs in order on one stream that the policy owns (cuda_detail::stream(),
// non-blocking: no implicit synchronisation with the legacy default stream), which is what a
// CUDA graph capture needs. Copies between host vectors and the device go through page-locked
// staging memory (at most kStagingBytes, larger copies in pieces): a download waits for the
// stream, an upload for its own copy; device-to-device copies, fills and launches do not wait.
//
// Graphs: capture(graph, record) records the launches that record() issues on the stream
// (cudaStreamBeginCapture, thread-local mode) and instantiates them; replay(graph) launches
// the instantiated graph on the stream. A captured launch keeps the parameters (pointers) of
// its capture: the engine recaptures after anything they depend on changes.
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdio>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "kernels/launch_cuda.cuh"
#include "kernels/launch_team_cuda.cuh"
#include "vitrify/core/error.hpp"

namespace vitrify {

namespace cuda_detail {

// "1234.5 MiB"
inline std::string mebibytes(std::size_t bytes) {
  char text[64];
  std::snprintf(text, sizeof text, "%.1f MiB", double(bytes) / (1024.0 * 1024.0));
  return text;
}

// Free and total memory of the current device as text ("free X of Y").
inline std::string memory_report() {
  std::size_t free_bytes = 0, total_bytes = 0;
  if (cudaMemGetInfo(&free_bytes, &total_bytes) != cudaSuccess) {
    cudaGetLastError();
    return "device memory unknown";
  }
  return "free " + mebibytes(free_bytes) + " of " + mebibytes(total_bytes);
}

// Throws SimulationError for a failed CUDA call.
inline void check(cudaError_t err, const char* call) {
  if (err == cudaSuccess) return;
  cudaGetLastError();  // clear a non-sticky error so that the message is not repeated
  std::string msg = std::string("CUDA error in ") + call + ": " + cudaGetErrorString(err) + " (" +
                    cudaGetErrorName(err) + ")";
  if (err == cudaErrorMemoryAllocation) msg += "; " + memory_report();
  if (err == cudaErrorIllegalAddress || err == cudaErrorLaunchFailure)
    msg += " (the fault may come from an earlier, asynchronous kernel)";
  throw SimulationError(msg);
}

// The stream every operation of the policy runs on: created on first use on the current
// device, non-blocking, kept for the process.
inline cudaStream_t stream() {
  static const cudaStream_t owned = [] {
    cudaStream_t created = nullptr;
    check(cudaStreamCreateWithFlags(&created, cudaStreamNonBlocking), "cudaStreamCreateWithFlags");
    return created;
  }();
  return owned;
}

// cudaMalloc with an out-of-memory message that names the request.
inline void* allocate_bytes(std::size_t bytes) {
  stream();  // created here (where an error may throw), not first in a destructor
  void* p = nullptr;
  const cudaError_t err = cudaMalloc(&p, bytes);
  if (err == cudaErrorMemoryAllocation) {
    cudaGetLastError();
    throw SimulationError("CUDA error in cudaMalloc: out of device memory allocating " +
                          mebibytes(bytes) + " (" + memory_report() + ")");
  }
  check(err, "cudaMalloc");
  return p;
}

// Throws InputError when `bytes` more device memory than the device has free are needed.
inline void require_free_memory(std::size_t bytes, const std::string& what) {
  std::size_t free_bytes = 0, total_bytes = 0;
  check(cudaMemGetInfo(&free_bytes, &total_bytes), "cudaMemGetInfo");
  if (bytes > free_bytes)
    throw InputError(what + " needs about " + mebibytes(bytes) + " of device memory, but the " +
                     "device has " + mebibytes(free_bytes) + " free (of " + mebibytes(total_bytes) +
                     "); use fewer replicas or particles per run");
}

// Page-locked staging memory for copies between host vectors and the device, allocated at its
// full size on first use and kept for the process.
constexpr std::size_t kStagingBytes = std::size_t(32) << 20;
inline char* staging() {
  static char* const buffer = [] {
    void* p = nullptr;
    check(cudaMallocHost(&p, kStagingBytes), "cudaMallocHost (staging)");
    return static_cast<char*>(p);
  }();
  return buffer;
}

// Host memory to device memory through the staging buffer; returns when the copy is done.
inline void copy_to_device(void* dst, const void* src, std::size_t bytes) {
  for (std::size_t done = 0; done < bytes; done += kStagingBytes) {
    const std::size_t piece = bytes - done < kStagingBytes ? bytes - done : kStagingBytes;
    std::memcpy(staging(), static_cast<const char*>(src) + done, piece);
    check(cudaMemcpyAsync(static_cast<char*>(dst) + done, staging(), piece, cudaMemcpyHostToDevice,
                          stream()),
          "cudaMemcpyAsync (host to device)");
    check(cudaStreamSynchronize(stream()), "cudaStreamSynchronize (after a copy to the device)");
  }
}

// Device memory to host memory through the staging buffer, after everything queued before.
inline void copy_to_host(void* dst, const void* src, std::size_t bytes) {
  for (std::size_t done = 0; done < bytes; done += kStagingBytes) {
    const std::size_t piece = bytes - done < kStagingBytes ? bytes - done : kStagingBytes;
    check(cudaMemcpyAsync(staging(), static_cast<const char*>(src) + done, piece,
                          cudaMemcpyDeviceToHost, stream()),
          "cudaMemcpyAsync (device to host)");
    check(cudaStreamSynchronize(stream()), "cudaStreamSynchronize (copy to the host)");
    std::memcpy(static_cast<char*>(dst) + done, staging(), piece);
  }
}

// Sets every element of a device array to one value.
template <class T>
struct FillBody {
  T* data;
  T value;
  __host__ __device__ void operator()(int i) const { data[i] = value; }
};

}  // namespace cuda_detail

// Owning device array: cudaMalloc'd on resize, cudaFree'd on destruction; move-only.
template <class T>
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  ~DeviceBuffer() { release(); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  DeviceBuffer(DeviceBuffer&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}
  DeviceBuffer& operator=(DeviceBuffer&& other) noexcept {
    if (this != &other) {
      release();
      data_ = std::exchange(other.data_, nullptr);
      size_ = std::exchange(other.size_, 0);
    }
    return *this;
  }

  std::size_t size() const { return size_; }
  T* data() { return data_; }
  const T* data() const { return data_; }

  // Resizes to n elements; the contents are undefined afterwards unless n == size().
  void resize_uninitialized(std::size_t n) {
    if (n == size_) return;
    release();  // free first, so that the peak is the larger of the two sizes
    if (n > 0) data_ = static_cast<T*>(cuda_detail::allocate_bytes(n * sizeof(T)));
    size_ = n;
  }

 private:
  void release() {
    // Kernels queued on the policy's stream may still use the memory: wait for them first.
    if (data_) cudaStreamSynchronize(cuda_detail::stream());
    if (data_) cudaFree(data_);  // errors ignored: destructors must not throw
    data_ = nullptr;
    size_ = 0;
  }

  T* data_ = nullptr;
  std::size_t size_ = 0;
};

// A captured, instantiated CUDA graph; move-only, destroyed after the stream has drained.
class CudaGraph {
 public:
  CudaGraph() = default;
  ~CudaGraph() { reset(); }
  CudaGraph(const CudaGraph&) = delete;
  CudaGraph& operator=(const CudaGraph&) = delete;
  CudaGraph(CudaGraph&& o) noexcept
      : graph_(std::exchange(o.graph_, nullptr)),
        exec_(std::exchange(o.exec_, nullptr)),
        nodes_(std::exchange(o.nodes_, 0)) {}
  CudaGraph& operator=(CudaGraph&& o) noexcept {
    if (this != &o) {
      reset();
      graph_ = std::exchange(o.graph_, nullptr);
      exec_ = std::exchange(o.exec_, nullptr);
      nodes_ = std::exchange(o.nodes_, 0);
    }
    return *this;
  }

  std::size_t nodes() const { return nodes_; }

 private:
  friend struct CudaExec;
  void reset() {  // errors ignored: destructors must not throw
    if (exec_ || graph_) cudaStreamSynchronize(cuda_detail::stream());
    if (exec_) cudaGraphExecDestroy(exec_);
    if (graph_) cudaGraphDestroy(graph_);
    exec_ = nullptr;
    graph_ = nullptr;
    nodes_ = 0;
  }

  cudaGraph_t graph_ = nullptr;
  cudaGraphExec_t exec_ = nullptr;
  std::size_t nodes_ = 0;
};

struct CudaExec {
  static constexpr bool host_memory = false;
  static constexpr const char* name = "cuda";
  // Neighbour-list layout: entry k of every particle contiguous, so that consecutive threads
  // (particles) read consecutive addresses (coalesced).
  static constexpr bool neighbors_particle_major = false;
  // Full lists: one thread per particle, no atomics (kernels/forces.hpp: ComputeForces).
  static constexpr bool half_lists = false;

  template <class T>
  using Buffer = DeviceBuffer<T>;

  // Runs body(i) for i in [0, n) on the device (asynchronous); launch errors throw.
  template <class F>
  void launch(long n, const F& body) const {
    const cudaError_t err = kernels::launch_cuda(n, body, cuda_detail::stream());
    if (err != cudaSuccess) cuda_detail::check(err, __PRETTY_FUNCTION__);
  }

  // Team (block) kernels: one thread block of team_size() threads per team
  // (kernels/launch_team_cuda.cuh).
  static constexpr bool team_kernels = true;
  static int team_size() { return 256; }
  // The most dynamic shared memory a block may opt in to on the current device.
  static std::size_t max_team_scratch() {
    static const std::size_t limit = [] {
      int device = 0, bytes = 0;
      cuda_detail::check(cudaGetDevice(&device), "cudaGetDevice");
      cuda_detail::check(
          cudaDeviceGetAttribute(&bytes, cudaDevAttrMaxSharedMemoryPerBlockOptin, device),
          "cudaDeviceGetAttribute (shared memory per block)");
      return static_cast<std::size_t>(bytes);
    }();
    return limit;
  }
  template <class K>
  void launch_teams(int teams, const K& kernel) const {
    const cudaError_t err =
        kernels::launch_teams_cuda(teams, team_size(), kernel, cuda_detail::stream());
    if (err != cudaSuccess) cuda_detail::check(err, __PRETTY_FUNCTION__);
  }

  using Graph = CudaGraph;

  // Records the launches of record() into `graph` and instantiates it (see the header).
  template <class F>
  void capture(Graph& graph, const F& record) const {
    graph.reset();
    const cudaStream_t s = cuda_detail::stream();
    cuda_detail::check(cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal),
                       "cudaStreamBeginCapture");
    try {
      record();
    } catch (...) {
      cudaGraph_t broken = nullptr;
      cudaStreamEndCapture(s, &broken);  // ends the capture; errors ignored for the first one
      if (broken) cudaGraphDestroy(broken);
      cudaGetLastError();
      throw;
    }
    cuda_detail::check(cudaStreamEndCapture(s, &graph.graph_), "cudaStreamEndCapture");
    cuda_detail::check(cudaGraphGetNodes(graph.graph_, nullptr, &graph.nodes_),
                       "cudaGraphGetNodes");
    cuda_detail::check(cudaGraphInstantiate(&graph.exec_, graph.graph_, 0), "cudaGraphInstantiate");
  }

  // Launches a captured graph on the stream (asynchronous).
  void replay(const Graph& graph) const {
    cuda_detail::check(cudaGraphLaunch(graph.exec_, cuda_detail::stream()), "cudaGraphLaunch");
  }

  // n elements, all zero.
  template <class T>
  static void allocate(Buffer<T>& buf, std::size_t n) {
    buf.resize_uninitialized(n);
    if (n > 0)
      cuda_detail::check(cudaMemsetAsync(buf.data(), 0, n * sizeof(T), cuda_detail::stream()),
                         "cudaMemsetAsync");
  }
  template <class T>
  static void upload(Buffer<T>& dst, const std::vector<T>& src) {
    dst.resize_uninitialized(src.size());
    if (!src.empty()) cuda_detail::copy_to_device(dst.data(), src.data(), src.size() * sizeof(T));
  }
  // Waits for every operation queued before on the stream.
  template <class T>
  static void download(std::vector<T>& dst, const Buffer<T>& src) {
    dst.resize(src.size());
    if (src.size() > 0) cuda_detail::copy_to_host(dst.data(), src.data(), src.size() * sizeof(T));
  }
  // Device-to-device copy; dst takes the size of src.
  template <class T>
  static void copy(Buffer<T>& dst, const Buffer<T>& src) {
    dst.resize_uninitialized(src.size());
    if (src.size() > 0)
      cuda_detail::check(cudaMemcpyAsync(dst.data(), src.data(), src.size() * sizeof(T),
                                         cudaMemcpyDeviceToDevice, cuda_detail::stream()),
                         "cudaMemcpyAsync (device to device)");
  }
  template <class T>
  static void fill(Buffer<T>& buf, T value) {
    if (buf.size() == 0) return;
    if (value == T(0)) {
      cuda_detail::check(
          cudaMemsetAsync(buf.data(), 0, buf.size() * sizeof(T), cuda_detail::stream()),
          "cudaMemsetAsync");
      return;
    }
    cuda_detail::check(
        kernels::launch_cuda(static_cast<long>(buf.size()),
                             cuda_detail::FillBody<T>{buf.data(), value}, cuda_detail::stream()),
        "fill kernel launch");
  }
  template <class T>
  static T* ptr(Buffer<T>& buf) {
    return buf.data();
  }
  void synchronize() const {
    cuda_detail::check(cudaStreamSynchronize(cuda_detail::stream()), "cudaStreamSynchronize");
  }

  // Refuses (InputError) an allocation of `bytes` more than the device has free.
  static void require_free_memory(std::size_t bytes, const std::string& what) {
    cuda_detail::require_free_memory(bytes, what);
  }

  // "NVIDIA H100 80GB HBM3 (sm_90, 79.1 GiB)" for the current device.
  static std::string device_name() {
    int device = 0;
    cuda_detail::check(cudaGetDevice(&device), "cudaGetDevice");
    cudaDeviceProp prop{};
    cuda_detail::check(cudaGetDeviceProperties(&prop, device), "cudaGetDeviceProperties");
    char text[320];
    std::snprintf(text, sizeof text, "%s (sm_%d%d, %.1f GiB)", prop.name, prop.major, prop.minor,
                  double(prop.totalGlobalMem) / (1024.0 * 1024.0 * 1024.0));
    return text;
  }
};

}  // namespace vitrify
