// H5MD trajectories (trajectory_interval): frames written during production, read back with the
// HDF5 reader (positions equal to the final snapshot within float), exactly the same after an
// interruption and resume, readable by h5py, and converted to GSD (tools/h5md_to_gsd).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/common/cli_util.hpp"
#include "vitrify/io/h5md.hpp"
#include "vitrify/io/xyz.hpp"

namespace fs = std::filesystem;
using json = nlohmann::json;
using vitrify::test_util::Cmd;
using vitrify::test_util::run_cli;
using vitrify::test_util::run_shell;

namespace {

const std::string kSource = VITRIFY_SOURCE_DIR_FOR_TESTS;

std::string config(const std::string& dir, const std::string& model) {
  fs::create_directories(dir);
  json j = {{"model", model},
            {"n_particles", 256},
            {"melt_steps", 100},
            {"cool_steps", 100},
            {"equilibration_steps", 100},
            {"production_steps", 400},
            {"sample_interval", 10},
            {"thermo_interval", 50},
            {"trajectory_interval", 100},
            {"seed", 3},
            {"analyze", false},
            {"temperatures", {1.0, 2.0}}};
  const std::string path = dir + "/traj.json";
  std::ofstream(path) << j.dump(1);
  return path;
}

// The Python with h5py and gsd ($VITRIFY_PYTHON or Debian's), or "".
std::string python_with(const std::string& modules) {
  for (std::string py :
       {std::string(std::getenv("VITRIFY_PYTHON") ? std::getenv("VITRIFY_PYTHON") : ""),
        std::string("/usr/bin/python3"), std::string("python3")}) {
    if (py.empty()) continue;
    if (run_shell(py + " -c 'import " + modules + "' >/dev/null 2>&1").code == 0) return py;
  }
  return "";
}

}  // namespace

class Trajectory : public ::testing::TestWithParam<const char*> {};

TEST_P(Trajectory, FramesMatchTheFinalSnapshotAndSurviveAResume) {
  if (!vitrify::h5md_available()) GTEST_SKIP() << "build without HDF5";
  const std::string model = GetParam();
  const std::string dir = vitrify::test_util::fresh_temp_dir("vitrify_traj", model);
  const std::string cfg = config(dir, model);
  Cmd r = run_cli("run " + cfg + " -o " + dir + "/a --quiet");
  ASSERT_EQ(r.code, 0) << r.output;
  for (int rep = 0; rep < 2; ++rep) {
    char name[64];
    std::snprintf(name, sizeof name, "/a/trajectory/replica_%03d.h5", rep);
    const vitrify::TrajectoryData t = vitrify::read_h5md(dir + name);
    ASSERT_EQ(t.step.size(), 4u);    // production steps 100, 200, 300, 400
    EXPECT_EQ(t.step.front(), 400);  // scan step: 300 steps before production, then 100
    EXPECT_EQ(t.step.back(), 700);
    EXPECT_EQ(t.model, model);
    ASSERT_EQ(t.n, 256);
    const int d = t.dimension;
    // The last frame is the final state: the snapshot's positions within float rounding.
    std::snprintf(name, sizeof name, "/a/snapshots/replica_%03d.xyz", rep);
    const vitrify::XyzFrame snap = vitrify::read_xyz_file(dir + name, 0);
    const std::size_t last = (t.step.size() - 1) * t.n * d;
    double worst = 0;
    for (int i = 0; i < t.n; ++i) {
      worst = std::max(worst, std::fabs(t.position[last + i * d] - snap.x[i]));
      worst = std::max(worst, std::fabs(t.position[last + i * d + 1] - snap.y[i]));
      if (d == 3) worst = std::max(worst, std::fabs(t.position[last + i * d + 2] - snap.z[i]));
    }
    EXPECT_LT(worst, 1e-4) << "replica " << rep;
    for (int k = 0; k < d; ++k)
      EXPECT_NEAR(t.edges[(t.step.size() - 1) * d + k], snap.box[k], 1e-5);
  }

  // Interrupted in production after the second frame (step 550), resumed: the same frames.
  Cmd s = run_cli("run " + cfg + " -o " + dir + "/b --quiet --stop-after-step 550");
  ASSERT_EQ(s.code, 4) << s.output;
  EXPECT_EQ(vitrify::read_h5md(dir + "/b/trajectory/replica_001.h5").step.size(), 2u);
  Cmd t = run_cli("run " + cfg + " -o " + dir + "/b --quiet");
  ASSERT_EQ(t.code, 0) << t.output;
  const auto a1 = vitrify::read_h5md(dir + "/a/trajectory/replica_001.h5");
  const auto b1 = vitrify::read_h5md(dir + "/b/trajectory/replica_001.h5");
  EXPECT_EQ(a1.step, b1.step);
  EXPECT_EQ(a1.position, b1.position);
  EXPECT_EQ(a1.image, b1.image);
  EXPECT_EQ(a1.edges, b1.edges);
  fs::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Models, Trajectory, ::testing::Values("binary3d", "hump2d"),
                         [](const auto& info) { return std::string(info.param); });

TEST(TrajectoryTools, H5pyReadsItAndGsdConversionRoundTrips) {
  if (!vitrify::h5md_available()) GTEST_SKIP() << "build without HDF5";
  const std::string py = python_with("h5py, gsd.hoomd, numpy");
  if (py.empty()) GTEST_SKIP() << "python3 with h5py and gsd not available";
  const std::string dir = vitrify::test_util::fresh_temp_dir("vitrify_traj", "tools");
  const std::string cfg = config(dir, "binary3d");
  Cmd r = run_cli("run " + cfg + " -o " + dir + "/a --quiet");
  ASSERT_EQ(r.code, 0) << r.output;
  const std::string h5 = dir + "/a/trajectory/replica_000.h5";
  const std::string check = dir + "/check.py";
  std::ofstream(check) << R"(import sys, h5py, numpy as np, gsd.hoomd
h5, g = sys.argv[1], sys.argv[2]
with h5py.File(h5, "r") as f:
    assert tuple(f["h5md"].attrs["version"]) == (1, 1)
    pos = f["particles/all/position/value"][...]
    edges = f["particles/all/box/edges/value"][...]
    img = f["particles/all/image/value"][...]
    steps = f["particles/all/position/step"][...]
    assert pos.shape == (4, 256, 3), pos.shape
    assert list(steps) == [400, 500, 600, 700], steps
    assert (pos >= 0).all() and (pos <= edges[:, None, :]).all()
t = gsd.hoomd.open(g, "rb")
assert len(t) == 4, len(t)
for k, fr in enumerate(t):
    assert fr.configuration.step == steps[k]
    assert np.allclose(fr.configuration.box[:3], edges[k])
    back = fr.particles.position + 0.5 * edges[k]
    assert np.allclose(back, pos[k], atol=1e-5), np.abs(back - pos[k]).max()
    assert (fr.particles.image == img[k]).all()
    assert list(fr.particles.types) == ["S", "L"], fr.particles.types
print("ok")
)";
  Cmd c = run_shell("VITRIFY_PYTHON=" + py + " " + kSource + "/tools/h5md_to_gsd " + h5 + " " +
                    dir + "/t.gsd");
  ASSERT_EQ(c.code, 0) << c.output;
  Cmd v = run_shell(py + " " + check + " " + h5 + " " + dir + "/t.gsd");
  EXPECT_EQ(v.code, 0) << v.output;
  EXPECT_NE(v.output.find("ok"), std::string::npos) << v.output;
  fs::remove_all(dir);
}
