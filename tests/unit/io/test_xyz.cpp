// Extended XYZ reading: valid files, and clear messages for broken ones.
#include <gtest/gtest.h>

#include <sstream>

#include "vitrify/core/error.hpp"
#include "vitrify/io/xyz.hpp"
#include "vitrify/models/model_info.hpp"

using namespace vitrify;

namespace {
const char* kGood =
    "3\nLattice=\"10 0 0 0 10 0 0 0 10\" Properties=species:S:1:pos:R:3 pbc=\"T T T\"\n"
    "S 1 1 1\nL 2.2 1 1\nS -0.5 11 5\n";

std::string error_of(const std::string& text, int dim = 3) {
  std::istringstream in(text);
  try {
    read_xyz(in, "f.xyz", dim);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST(Xyz, ReadsAndWrapsPositions) {
  std::istringstream in(kGood);
  const XyzFrame f = read_xyz(in, "f.xyz", 3);
  ASSERT_EQ(f.x.size(), 3u);
  const BatchState s = frame_to_state(f, model_info("binary3d"), "f.xyz");
  EXPECT_EQ(s.type[1], 1);
  EXPECT_NEAR(s.x[2], 9.5, 1e-6);
  EXPECT_NEAR(s.y[2], 1.0, 1e-6);
}

TEST(Xyz, RoundTripThroughWriter) {
  std::istringstream in(kGood);
  const BatchState s = frame_to_state(read_xyz(in, "f.xyz", 3), model_info("binary3d"), "f.xyz");
  std::ostringstream out;
  write_xyz(out, s, 0, model_info("binary3d"));
  std::istringstream back(out.str());
  const XyzFrame g = read_xyz(back, "g.xyz", 3);
  EXPECT_EQ(g.species[1], "L");
  EXPECT_NEAR(g.x[1], 2.2, 1e-6);
  EXPECT_NEAR(g.box[2], 10.0, 1e-9);
}

// The writer's format (docs/PHYSICS.md, "Configuration files"): element symbols in species (so
// that ASE reads the files), the model's type names in type_name, velocities, model=NAME.
TEST(Xyz, WriterKeepsElementSymbolsTypeNamesVelocitiesAndModel) {
  std::istringstream in(kGood);
  BatchState s = frame_to_state(read_xyz(in, "f.xyz", 3), model_info("binary3d"), "f.xyz");
  s.vx[1] = 0.25;
  s.vy[1] = -1.5;
  s.vz[1] = 2.0;
  std::ostringstream out;
  write_xyz(out, s, 0, model_info("binary3d"), "Time=1 T=0.5");
  const std::string text = out.str();
  EXPECT_NE(text.find("Properties=species:S:1:pos:R:3:vel:R:3:type_name:S:1 "), std::string::npos)
      << text;
  EXPECT_NE(text.find(" model=binary3d "), std::string::npos) << text;
  EXPECT_NE(text.find(" Time=1 T=0.5\n"), std::string::npos) << text;
  // Particle lines: element symbol first, type name last.
  EXPECT_NE(text.find("\nH 1 1 1 0 0 0 S\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\nHe 2.2 1 1 0.25 -1.5 2 L\n"), std::string::npos) << text;
  EXPECT_EQ(xyz_element(0), "H");
  EXPECT_EQ(xyz_element(1), "He");

  // Read back without naming the dimension: the model of the comment line gives it.
  std::istringstream back(text);
  const XyzFrame g = read_xyz(back, "g.xyz", 0);
  EXPECT_EQ(g.model, "binary3d");
  EXPECT_EQ(g.dim, 3);
  ASSERT_EQ(g.species.size(), 3u);
  EXPECT_EQ(g.species[0], "S");
  EXPECT_EQ(g.species[1], "L");
  ASSERT_TRUE(g.has_velocities);
  EXPECT_DOUBLE_EQ(g.vx[1], 0.25);
  EXPECT_DOUBLE_EQ(g.vy[1], -1.5);
  EXPECT_DOUBLE_EQ(g.vz[1], 2.0);
  const BatchState t = frame_to_state(g, model_info("binary3d"), "g.xyz");
  EXPECT_EQ(t.type[1], 1);
  EXPECT_NEAR(t.vy[1], -1.5, 1e-6);
}

// 2D snapshots: z = 0, pbc="T T F", element symbol A -> H.
TEST(Xyz, Hump2dSnapshotRoundTrip) {
  std::istringstream in(
      "2\nLattice=\"10 0 0 0 10 0 0 0 1\" Properties=species:S:1:pos:R:3:vel:R:3\n"
      "A 1 1 0 0.5 0.5 0\nA 3 1 0 -0.5 0 0\n");
  const BatchState s = frame_to_state(read_xyz(in, "f.xyz", 2), model_info("hump2d"), "f.xyz");
  EXPECT_NEAR(s.vx[0], 0.5, 1e-6);
  std::ostringstream out;
  write_xyz(out, s, 0, model_info("hump2d"));
  EXPECT_NE(out.str().find("model=hump2d pbc=\"T T F\""), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("\nH 3 1 0 -0.5 0 0 A\n"), std::string::npos) << out.str();
  std::istringstream back(out.str());
  const XyzFrame g = read_xyz(back, "g.xyz", 0);
  EXPECT_EQ(g.dim, 2);
  EXPECT_EQ(g.species[1], "A");
}

// Older files (type names in species, no type_name column, no model=) are still read; without
// model= the dimension must be given.
TEST(Xyz, ReadsTheOlderFormAndNeedsAModelWithoutDimension) {
  std::istringstream in(kGood);
  const XyzFrame f = read_xyz(in, "f.xyz", 3);
  EXPECT_EQ(f.species[1], "L");
  EXPECT_TRUE(f.model.empty());
  EXPECT_FALSE(f.has_velocities);
  EXPECT_NE(error_of(kGood, 0).find("f.xyz:2: the comment line names no model"), std::string::npos);
  EXPECT_NE(error_of("1\nLattice=\"10 0 0 0 10 0 0 0 10\" model=ternary3d\nS 0 0 0\n", 0)
                .find("f.xyz:2: model=ternary3d: unknown model"),
            std::string::npos);
  // A model= the override does not need is not checked.
  EXPECT_EQ(error_of("1\nLattice=\"10 0 0 0 10 0 0 0 10\" model=other\nS 0 0 0\n", 3), "");
  EXPECT_NE(error_of("1\nLattice=\"10 0 0 0 10 0 0 0 10\" Properties=species:S:1:pos:R:3:vel:R:3"
                     "\nS 0 0 0 1 nan 0\n")
                .find("f.xyz:3: velocity component \"nan\""),
            std::string::npos);
}

TEST(Xyz, BrokenFilesNameTheLineAndReason) {
  EXPECT_NE(error_of("").find("f.xyz:1"), std::string::npos);
  EXPECT_NE(error_of("abc\n").find("particle count"), std::string::npos);
  EXPECT_NE(error_of("-3\n").find("positive"), std::string::npos);
  EXPECT_NE(error_of("2\nno lattice here\n").find("Lattice"), std::string::npos);
  EXPECT_NE(error_of("1\nLattice=\"10 0 0 0 10 0 0 0\"\nS 0 0 0\n").find("9 numbers"),
            std::string::npos);
  EXPECT_NE(error_of("1\nLattice=\"10 1 0 0 10 0 0 0 10\"\nS 0 0 0\n").find("orthogonal"),
            std::string::npos);
  EXPECT_NE(error_of("2\nLattice=\"10 0 0 0 10 0 0 0 10\"\nS 0 0 0\n").find("f.xyz:4"),
            std::string::npos);
  EXPECT_NE(error_of("1\nLattice=\"10 0 0 0 10 0 0 0 10\"\nS 0 nan 0\n").find("f.xyz:3"),
            std::string::npos);
  EXPECT_NE(error_of("1\nLattice=\"10 0 0 0 10 0 0 0 10\"\nS 0 0\n").find("columns"),
            std::string::npos);
  EXPECT_NE(error_of("1\nLattice=\"0 0 0 0 10 0 0 0 10\"\nS 0 0 0\n").find("> 0"),
            std::string::npos);
  std::istringstream in("1\nLattice=\"10 0 0 0 10 0 0 0 10\"\nX 0 0 0\n");
  const XyzFrame f = read_xyz(in, "f.xyz", 3);
  EXPECT_THROW(frame_to_state(f, model_info("binary3d"), "f.xyz"), InputError);
}
