#include "vitrify/io/xyz.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <istream>
#include <ostream>
#include <sstream>

#include "vitrify/core/box.hpp"
#include "vitrify/core/error.hpp"

namespace vitrify {
namespace {

// Box edges and coordinates beyond this are rejected: they would overflow single-precision
// arithmetic (and the integer image counts) after the conversion to the engine's reals.
constexpr double kMaxCoordinate = 1e6;

[[noreturn]] void fail(const std::string& source, long line, const std::string& why) {
  throw InputError(source + ":" + std::to_string(line) + ": " + why);
}

// Value of key="..." or key=token in the comment line; empty when absent.
std::string header_value(const std::string& line, const std::string& key, bool* found,
                         bool* unterminated) {
  *found = false;
  *unterminated = false;
  std::size_t pos = 0;
  while ((pos = line.find(key + "=", pos)) != std::string::npos) {
    if (pos == 0 || std::isspace(static_cast<unsigned char>(line[pos - 1]))) break;
    pos += key.size() + 1;
  }
  if (pos == std::string::npos) return "";
  *found = true;
  std::size_t start = pos + key.size() + 1;
  if (start < line.size() && line[start] == '"') {
    const std::size_t end = line.find('"', start + 1);
    if (end == std::string::npos) {
      *unterminated = true;
      return line.substr(start + 1);
    }
    return line.substr(start + 1, end - start - 1);
  }
  std::size_t end = start;
  while (end < line.size() && !std::isspace(static_cast<unsigned char>(line[end]))) ++end;
  return line.substr(start, end - start);
}

bool parse_double(const std::string& tok, double& out) {
  if (tok.empty()) return false;
  char* end = nullptr;
  out = std::strtod(tok.c_str(), &end);
  return end == tok.c_str() + tok.size() && std::isfinite(out);
}

// Placeholder element symbols of the species column, by particle type (docs/PHYSICS.md,
// "Configuration files"): real symbols, so that other readers (ASE) accept the files.
const char* const kElementByType[] = {"H", "He", "Li", "Be", "B", "C", "N", "O", "F", "Ne"};

}  // namespace

std::string xyz_element(int type) {
  constexpr int n = static_cast<int>(sizeof(kElementByType) / sizeof(kElementByType[0]));
  return type >= 0 && type < n ? kElementByType[type] : "X";
}

XyzFrame read_xyz(std::istream& in, const std::string& source, int dimension) {
  XyzFrame f;
  std::string line;
  if (!std::getline(in, line)) fail(source, 1, "empty file (expected the particle count)");
  long count = 0;
  {
    std::istringstream ls(line);
    std::string tok, extra;
    if (!(ls >> tok) || (ls >> extra)) fail(source, 1, "expected one integer, the particle count");
    char* end = nullptr;
    count = std::strtol(tok.c_str(), &end, 10);
    if (end != tok.c_str() + tok.size() || count < 1)
      fail(source, 1, "particle count must be a positive integer (got \"" + tok + "\")");
    if (count > 50'000'000) fail(source, 1, "particle count " + tok + " is too large");
  }
  if (!std::getline(in, line)) fail(source, 2, "missing the comment line with Lattice=\"...\"");
  bool found = false, unterminated = false;
  f.model = header_value(line, "model", &found, &unterminated);
  if (found && unterminated) fail(source, 2, "model=\"...\" has no closing quote");
  if (dimension == 0) {
    if (f.model.empty())
      fail(source, 2,
           "the comment line names no model (model=NAME): give the model explicitly "
           "(vitrify eval --model)");
    try {
      dimension = model_info(f.model).dimension;
    } catch (const InputError& e) {
      fail(source, 2, std::string("model=") + f.model + ": " + e.what());
    }
  }
  f.dim = dimension;
  const std::string lattice = header_value(line, "Lattice", &found, &unterminated);
  if (!found) fail(source, 2, "missing Lattice=\"Lx 0 0 0 Ly 0 0 0 Lz\"");
  if (unterminated) fail(source, 2, "Lattice=\"...\" has no closing quote");
  {
    std::istringstream ls(lattice);
    std::vector<double> v;
    std::string tok;
    while (ls >> tok) {
      double x;
      if (!parse_double(tok, x)) fail(source, 2, "Lattice holds a non-number \"" + tok + "\"");
      v.push_back(x);
    }
    if (v.size() != 9)
      fail(source, 2, "Lattice must hold 9 numbers, got " + std::to_string(v.size()));
    for (int a = 0; a < 3; ++a)
      for (int b = 0; b < 3; ++b)
        if (a != b && v[3 * a + b] != 0.0)
          fail(source, 2,
               "only orthogonal boxes are supported (off-diagonal Lattice entries must be 0)");
    for (int a = 0; a < 3; ++a) {
      f.box[a] = v[4 * a];
      if (a < dimension && !(f.box[a] > 0))
        fail(source, 2, "box edge " + std::to_string(a + 1) + " must be > 0");
      if (a < dimension && f.box[a] > kMaxCoordinate)
        fail(source, 2, "box edge " + std::to_string(a + 1) + " is too large (at most 1e6)");
    }
  }
  const std::string props = header_value(line, "Properties", &found, &unterminated);
  if (found && unterminated) fail(source, 2, "Properties=\"...\" has no closing quote");
  // Columns: vitrify's type names come from type_name when present (files written by this
  // version, whose species column holds element symbols), else from species (older files).
  int species_col = 0, pos_col = 1, ncols = 4, type_name_col = -1, vel_col = -1;
  if (found) {
    // name:type:count triples
    std::vector<std::string> parts;
    std::stringstream ps(props);
    std::string p;
    while (std::getline(ps, p, ':')) parts.push_back(p);
    if (parts.size() % 3 != 0) fail(source, 2, "malformed Properties=\"" + props + "\"");
    species_col = pos_col = -1;
    int col = 0;
    for (std::size_t k = 0; k < parts.size(); k += 3) {
      char* end = nullptr;
      const long cnt = std::strtol(parts[k + 2].c_str(), &end, 10);
      if (*end != '\0' || cnt < 1 || cnt > 64) fail(source, 2, "malformed Properties count");
      if (parts[k] == "species") species_col = col;
      if (parts[k] == "type_name") {
        if (cnt != 1) fail(source, 2, "type_name must have 1 component");
        type_name_col = col;
      }
      if (parts[k] == "pos") {
        if (cnt != 3) fail(source, 2, "pos must have 3 components");
        pos_col = col;
      }
      if (parts[k] == "vel") {
        if (cnt != 3) fail(source, 2, "vel must have 3 components");
        vel_col = col;
      }
      col += static_cast<int>(cnt);
    }
    ncols = col;
    if (species_col < 0 || pos_col < 0)
      fail(source, 2, "Properties must include species:S:1 and pos:R:3");
  }
  const int name_col = type_name_col >= 0 ? type_name_col : species_col;
  f.has_velocities = vel_col >= 0;
  // The count is not trusted for the allocation: a short file with a huge count must fail on
  // its missing lines, not on memory.
  f.species.reserve(static_cast<std::size_t>(std::min<long>(count, 1 << 16)));
  for (long i = 0; i < count; ++i) {
    const long lineno = i + 3;
    if (!std::getline(in, line))
      fail(source, lineno,
           "file ends after " + std::to_string(i) + " of " + std::to_string(count) + " particles");
    std::istringstream ls(line);
    std::vector<std::string> tok;
    std::string t;
    while (ls >> t) tok.push_back(t);
    if (static_cast<int>(tok.size()) < ncols)
      fail(source, lineno,
           "expected " + std::to_string(ncols) + " columns, got " + std::to_string(tok.size()));
    double xyz[3];
    for (int a = 0; a < 3; ++a) {
      if (!parse_double(tok[pos_col + a], xyz[a]))
        fail(source, lineno,
             "position component \"" + tok[pos_col + a] + "\" is not a finite number");
      if (std::fabs(xyz[a]) > kMaxCoordinate)
        fail(source, lineno,
             "position component " + tok[pos_col + a] + " is too large (at most 1e6 in magnitude)");
    }
    f.species.push_back(tok[name_col]);
    f.x.push_back(xyz[0]);
    f.y.push_back(xyz[1]);
    f.z.push_back(xyz[2]);
    if (f.has_velocities) {
      double v[3];
      for (int a = 0; a < 3; ++a) {
        if (!parse_double(tok[vel_col + a], v[a]))
          fail(source, lineno,
               "velocity component \"" + tok[vel_col + a] + "\" is not a finite number");
        if (std::fabs(v[a]) > kMaxCoordinate)
          fail(source, lineno,
               "velocity component " + tok[vel_col + a] +
                   " is too large (at most 1e6 in magnitude)");
      }
      f.vx.push_back(v[0]);
      f.vy.push_back(v[1]);
      f.vz.push_back(v[2]);
    }
  }
  return f;
}

XyzFrame read_xyz_file(const std::string& path, int dimension) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw InputError(path + ": cannot open the file: is a directory, not a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::string why = std::strerror(errno);
    if (!why.empty()) why[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(why[0])));
    throw InputError(path + ": cannot open the file: " + why);
  }
  return read_xyz(in, path, dimension);
}

BatchState frame_to_state(const XyzFrame& f, const ModelInfo& m, const std::string& source) {
  BatchState s;
  const int n = static_cast<int>(f.x.size());
  s.resize(1, n, m.dimension);
  for (int a = 0; a < 3; ++a) s.box[a] = real(a < m.dimension ? f.box[a] : 1.0);
  for (int a = 0; a < m.dimension; ++a)
    if (f.box[a] < 2.0 * m.max_cutoff) {
      std::ostringstream why;
      why << source << ":2: box edge " << a + 1 << " (" << f.box[a]
          << ") is smaller than twice the " << m.name << " cutoff (" << 2.0 * m.max_cutoff << ")";
      throw InputError(why.str());
    }
  for (int i = 0; i < n; ++i) {
    int type = -1;
    for (int t = 0; t < m.n_types; ++t)
      if (f.species[i] == m.type_names[t]) type = t;
    if (type < 0) {
      std::string names;
      for (const auto& nm : m.type_names) names += (names.empty() ? "" : ", ") + nm;
      throw InputError(source + ":" + std::to_string(i + 3) + ": species \"" + f.species[i] +
                       "\" is not a " + m.name + " species (" + names + ")");
    }
    s.type[i] = type;
    if (m.dimension == 2 && f.z[i] != 0.0)
      throw InputError(source + ":" + std::to_string(i + 3) + ": a 2D model needs z = 0");
    real x = real(f.x[i]), y = real(f.y[i]), z = real(m.dimension == 3 ? f.z[i] : 0.0);
    Box::wrap_1d(x, s.box[0]);
    Box::wrap_1d(y, s.box[1]);
    if (m.dimension == 3) Box::wrap_1d(z, s.box[2]);
    s.x[i] = x;
    s.y[i] = y;
    s.z[i] = z;
    if (f.has_velocities) {
      s.vx[i] = real(f.vx[i]);
      s.vy[i] = real(f.vy[i]);
      s.vz[i] = real(m.dimension == 3 ? f.vz[i] : 0.0);
    }
  }
  return s;
}

void write_xyz(std::ostream& out, const BatchState& s, int r, const ModelInfo& m,
               const std::string& comment) {
  const long base = static_cast<long>(r) * s.n;
  const double lx = s.box[3 * r], ly = s.box[3 * r + 1],
               lz = m.dimension == 3 ? s.box[3 * r + 2] : 1.0;
  out << s.n << '\n';
  out << std::setprecision(10) << "Lattice=\"" << lx << " 0 0 0 " << ly << " 0 0 0 " << lz
      << "\" Properties=species:S:1:pos:R:3:vel:R:3:type_name:S:1 model=" << m.name << " pbc=\""
      << (m.dimension == 3 ? "T T T" : "T T F") << "\"";
  if (!comment.empty()) out << ' ' << comment;
  out << '\n' << std::setprecision(8);
  for (int i = 0; i < s.n; ++i) {
    const long g = base + i;
    out << xyz_element(s.type[g]) << ' ' << s.x[g] << ' ' << s.y[g] << ' '
        << (m.dimension == 3 ? s.z[g] : real(0)) << ' ' << s.vx[g] << ' ' << s.vy[g] << ' '
        << (m.dimension == 3 ? s.vz[g] : real(0)) << ' ' << m.type_names[s.type[g]] << '\n';
  }
}

}  // namespace vitrify
