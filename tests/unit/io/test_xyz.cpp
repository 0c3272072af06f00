// Extended XYZ reading: valid files, and clear messages for broken ones.
#include <gtest/gtest.h>

#include <sstream>

#include "vitrify/core/error.hpp"
#include "vitrify/models/model_info.hpp"
#include "vitrify/io/xyz.hpp"

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
