#pragma once
// The execution paths every engine test runs on, and the GoogleTest machinery that writes a
// test once and instantiates it per path and per model (value-parameterised tests whose
// parameter names a (path, model) pair; the test body is a generic lambda instantiated for
// every pair at compile time).
//
// A path is a small tag struct:
//   name         printable, part of the test names ("cpu_full")
//   available()  false (with the reason) when the path cannot run here: its tests skip
//   make<Model>  an engine of that model on that path
//   openmp       whether the path runs on the host's OpenMP threads (thread-count tests)
// Adding a path: write its tag below and add it to AllPaths; every engine test then runs on
// it. Adding a model: add it to vitrify::AllModels (include/vitrify/models/all.hpp) and give
// it an independent reference (tests/common/reference_models.hpp).
//
// A test over every (path, model) pair:
//   class MySuite : public test_paths::EnginePathTest {};
//   TEST_P(MySuite, Something) {
//     visit([&](auto c) {
//       using C = decltype(c);                  // test_paths::Case<Path, Model>
//       using Model = typename C::Model;
//       auto e = C::make_engine(settings);
//       ...                                     // C::name() is "cpu_full__kob_andersen"
//     });
//   }
//   INSTANTIATE_TEST_SUITE_P(EnginePaths, MySuite, test_paths::engine_cases(),
//                            test_paths::CaseName{});
// ctest lists it once per pair: EnginePaths/MySuite.Something/cpu_full__kob_andersen. Paths
// that cannot run here (cuda without a device) skip in SetUp with the reason; engine_cases()
// takes a filter on the model's ModelInfo (e.g. the NPT models). PathTest (path_cases(),
// "Paths/...") and ModelTest (model_cases(), "Models/...") do the same over paths or models
// alone.
#include <gtest/gtest.h>

#include <cctype>
#include <cstddef>
#include <limits>
#include <memory>
#include <ostream>
#include <string>
#include <type_traits>
#include <vector>

#include "tests/common/test_util.hpp"
#include "vitrify/core/error.hpp"
#include "vitrify/engine/engine.hpp"
#include "vitrify/engine/exec_cpu.hpp"
#include "vitrify/engine/exec_team_cpu.hpp"
#include "vitrify/engine/initial.hpp"
#include "vitrify/engine/replica_engine.hpp"
#include "vitrify/models/all.hpp"
#include "vitrify/models/model_info.hpp"

namespace vitrify::test_paths {

// The CPU with the device path switched on: the engine may not read flags through pointers
// (lazy overflow checks once per block, block-start copy and rerun), lists are stored
// entry-major as on the GPU, the GPU's full lists are used, team kernels and graphs are
// emulated (CpuTeamExec), and memory requests are recorded (require_free_memory refuses
// requests above free_bytes). Runs on every machine; the CUDA policy differs only in where
// buffers live and code runs.
struct HostDevicePathExec : CpuTeamExec {
  static constexpr bool host_memory = false;
  static constexpr const char* name = "cpu-device-path";
  static constexpr bool neighbors_particle_major = false;
  static constexpr bool half_lists = false;

  static inline std::size_t last_request = 0;
  static inline std::size_t free_bytes = std::numeric_limits<std::size_t>::max();
  static void require_free_memory(std::size_t bytes, const std::string& what) {
    last_request = bytes;
    if (bytes > free_bytes)
      throw InputError(what + " needs about " + std::to_string(bytes) + " bytes");
  }
  static std::string device_name() { return "host, device code path"; }
};

// The device code path with its downloads counted (bytes_down): what a CUDA engine would copy
// to the host (the CUDA policy copies the same buffers).
struct CountingDownloadsExec : HostDevicePathExec {
  static inline std::size_t bytes_down = 0;
  template <class T>
  static void download(std::vector<T>& dst, const Buffer<T>& src) {
    bytes_down += src.size() * sizeof(T);
    dst = src;
  }
};

// An engine of ReplicaEngine<Exec, Model> named as the model.
template <class Exec, class Model>
std::unique_ptr<Engine> make_replica_engine(const EngineSettings& es) {
  return std::make_unique<ReplicaEngine<Exec, Model>>(Model::info().name, es);
}

// Lattice replicas of n particles of `Model`, one per density, at temperature t.
template <class Model>
BatchState lattice_batch(const std::vector<double>& densities, int n, double t,
                         std::uint64_t seed) {
  const ModelInfo m = Model::info();
  BatchState s;
  s.resize(static_cast<int>(densities.size()), n, m.dimension);
  for (int r = 0; r < s.n_replicas; ++r)
    make_lattice_replica(s, r, m, densities[r], t, replica_seed(seed, r));
  return s;
}

// ---- the paths --------------------------------------------------------------------------

// The CPU backend as the program runs it (half neighbour lists).
struct CpuPath {
  static constexpr const char* name = "cpu";
  static constexpr bool openmp = true;
  static bool available(std::string*) { return true; }
  template <class Model>
  static std::unique_ptr<Engine> make(const EngineSettings& es) {
    return vitrify::make_engine("cpu", Model::info().name, es);
  }
};

// The CPU with the GPU's full lists and per-particle force kernel.
struct CpuFullListPath {
  static constexpr const char* name = "cpu_full";
  static constexpr bool openmp = true;
  static bool available(std::string*) { return true; }
  template <class Model>
  static std::unique_ptr<Engine> make(const EngineSettings& es) {
    return make_replica_engine<test_util::FullListCpuExec, Model>(es);
  }
};

// The device-memory code path (what the CUDA backend runs) on the host.
struct DevicePathOnCpuPath {
  static constexpr const char* name = "device_path_on_cpu";
  static constexpr bool openmp = true;
  static bool available(std::string*) { return true; }
  template <class Model>
  static std::unique_ptr<Engine> make(const EngineSettings& es) {
    return make_replica_engine<HostDevicePathExec, Model>(es);
  }
};

// The block kernel (one team per replica, kernels/block_step.hpp) emulated on the CPU, as
// `--backend cpu --kernel block` runs it.
struct BlockOnCpuPath {
  static constexpr const char* name = "block_on_cpu";
  static constexpr bool openmp = true;
  static bool available(std::string*) { return true; }
  template <class Model>
  static std::unique_ptr<Engine> make(const EngineSettings& es) {
    EngineSettings s = es;
    s.kernel = KernelKind::kBlock;
    return vitrify::make_engine("cpu", Model::info().name, s);
  }
};

// The CUDA backend; skips where no device answers (always in builds without CUDA).
struct CudaPath {
  static constexpr const char* name = "cuda";
  static constexpr bool openmp = false;
  static bool available(std::string* why) { return cuda_device_available(why); }
  template <class Model>
  static std::unique_ptr<Engine> make(const EngineSettings& es) {
    return vitrify::make_engine("cuda", Model::info().name, es);
  }
};

template <class... Paths>
struct PathList {};

// Every execution path, in the order the tests are listed.
using AllPaths = PathList<CpuPath, CpuFullListPath, DevicePathOnCpuPath, BlockOnCpuPath, CudaPath>;

// An engine of `Model` on `Path` (the path must be available).
template <class Path, class Model>
std::unique_ptr<Engine> make_test_engine(const EngineSettings& es) {
  return Path::template make<Model>(es);
}

// ---- names ------------------------------------------------------------------------------

// A model's name as part of a test name ("kob-andersen" -> "kob_andersen").
inline std::string identifier(std::string s) {
  for (char& c : s)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return s;
}

template <class Model>
std::string model_id() {
  return identifier(Model::info().name);
}

// ---- the cases: compile-time types and their runtime descriptions ----------------------

// A (path, model) pair.
template <class P, class M>
struct Case {
  using Path = P;
  using Model = M;
  static std::string name() { return std::string(Path::name) + "__" + model_id<Model>(); }
  static bool available(std::string* why) { return Path::available(why); }
  static std::unique_ptr<Engine> make_engine(const EngineSettings& es) {
    return make_test_engine<Path, Model>(es);
  }
};

// A path alone (tests whose models are fixed inside the test).
template <class P>
struct PathCase {
  using Path = P;
  static std::string name() { return Path::name; }
  static bool available(std::string* why) { return Path::available(why); }
  template <class Model>
  static std::unique_ptr<Engine> make_engine(const EngineSettings& es) {
    return make_test_engine<Path, Model>(es);
  }
};

// A model alone (tests about one path, or comparing paths, per model).
template <class M>
struct ModelCase {
  using Model = M;
  static std::string name() { return model_id<Model>(); }
  static bool available(std::string*) { return true; }
};

template <class... Cases>
struct CaseList {};

namespace detail {
template <class... Lists>
struct Concat;
template <>
struct Concat<> {
  using type = CaseList<>;
};
template <class... A>
struct Concat<CaseList<A...>> {
  using type = CaseList<A...>;
};
template <class... A, class... B, class... Rest>
struct Concat<CaseList<A...>, CaseList<B...>, Rest...> {
  using type = typename Concat<CaseList<A..., B...>, Rest...>::type;
};
template <class Path, class Models>
struct Row;
template <class Path, class... Models>
struct Row<Path, ModelList<Models...>> {
  using type = CaseList<Case<Path, Models>...>;
};
template <class Paths, class Models>
struct Product;
template <class... Paths, class Models>
struct Product<PathList<Paths...>, Models> {
  using type = typename Concat<typename Row<Paths, Models>::type...>::type;
};
template <class Paths>
struct PathsOf;
template <class... Paths>
struct PathsOf<PathList<Paths...>> {
  using type = CaseList<PathCase<Paths>...>;
};
template <class Models>
struct ModelsOf;
template <class... Models>
struct ModelsOf<ModelList<Models...>> {
  using type = CaseList<ModelCase<Models>...>;
};
template <class C, class = void>
struct HasModel : std::false_type {};
template <class C>
struct HasModel<C, std::void_t<typename C::Model>> : std::true_type {};
}  // namespace detail

// Every (path, model) pair, path-major; every path; every model.
using EngineCaseList = typename detail::Product<AllPaths, AllModels>::type;
using PathCaseList = typename detail::PathsOf<AllPaths>::type;
using ModelCaseList = typename detail::ModelsOf<AllModels>::type;

// The test parameter: which case of its list, with what the runtime needs to know of it.
struct CaseParam {
  int index = 0;                              // position in its CaseList
  std::string name;                           // part of the test name
  bool (*available)(std::string*) = nullptr;  // whether the path can run here
  ModelInfo model;                            // the model's facts (cases with a model)
};

// GoogleTest prints a parameter by its name (--gtest_list_tests, failure messages).
inline void PrintTo(const CaseParam& c, std::ostream* os) { *os << c.name; }

// Name generator for INSTANTIATE_TEST_SUITE_P.
struct CaseName {
  std::string operator()(const ::testing::TestParamInfo<CaseParam>& info) const {
    return info.param.name;
  }
};

// The cases of a list, optionally only those whose model passes `keep`.
template <class... Cases>
std::vector<CaseParam> case_params(CaseList<Cases...>, bool (*keep)(const ModelInfo&) = nullptr) {
  std::vector<CaseParam> out;
  int index = 0;
  auto add = [&](auto c) {
    using C = decltype(c);
    CaseParam p;
    p.index = index++;
    p.name = C::name();
    p.available = &C::available;
    if constexpr (detail::HasModel<C>::value) {
      p.model = C::Model::info();
      if (keep && !keep(p.model)) return;
    }
    out.push_back(p);
  };
  (add(Cases{}), ...);
  return out;
}

// Calls f(C{}) for the case C of the list that `param` names.
template <class F, class... Cases>
void visit_case(CaseList<Cases...>, const CaseParam& param, F&& f) {
  int index = 0;
  auto call = [&](auto c) {
    if (index++ == param.index) f(c);
  };
  (call(Cases{}), ...);
}

inline ::testing::internal::ParamGenerator<CaseParam> engine_cases(
    bool (*keep)(const ModelInfo&) = nullptr) {
  return ::testing::ValuesIn(case_params(EngineCaseList{}, keep));
}
inline ::testing::internal::ParamGenerator<CaseParam> path_cases() {
  return ::testing::ValuesIn(case_params(PathCaseList{}));
}
inline ::testing::internal::ParamGenerator<CaseParam> model_cases(
    bool (*keep)(const ModelInfo&) = nullptr) {
  return ::testing::ValuesIn(case_params(ModelCaseList{}, keep));
}

// ---- fixtures ---------------------------------------------------------------------------

// Fixture of a test over the cases of List: skips cases whose path cannot run here, and
// visit(f) calls the generic lambda f with the case's type.
template <class List>
class CaseTest : public ::testing::TestWithParam<CaseParam> {
 protected:
  void SetUp() override {
    std::string why;
    if (!GetParam().available(&why))
      GTEST_SKIP() << GetParam().name << ": the path is unavailable here (" << why << ")";
  }
  template <class F>
  void visit(F&& f) const {
    visit_case(List{}, GetParam(), static_cast<F&&>(f));
  }
};

using EnginePathTest = CaseTest<EngineCaseList>;  // over (path, model): engine_cases()
using PathTest = CaseTest<PathCaseList>;          // over paths: path_cases()
using ModelTest = CaseTest<ModelCaseList>;        // over models: model_cases()

}  // namespace vitrify::test_paths
