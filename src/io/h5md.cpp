// H5MD trajectory files through the HDF5 C library (include/vitrify/io/h5md.hpp).
#include "vitrify/io/h5md.hpp"

#include <filesystem>
#include <stdexcept>

#include "vitrify/core/error.hpp"

#if defined(VITRIFY_HAVE_HDF5)
#include <hdf5.h>
#endif

namespace vitrify {

#if !defined(VITRIFY_HAVE_HDF5)

bool h5md_available() { return false; }

struct H5mdWriter::Impl {};

H5mdWriter::H5mdWriter(const std::string&, const Info&, long) {
  throw InputError("trajectories need HDF5: this build has none (install libhdf5-dev, rebuild)");
}
H5mdWriter::~H5mdWriter() = default;
void H5mdWriter::append(const TrajectoryFrame&) {}
long H5mdWriter::frames() const { return 0; }
TrajectoryData read_h5md(const std::string&) {
  throw InputError("reading H5MD needs HDF5: this build has none");
}

#else

bool h5md_available() { return true; }

namespace {

// An HDF5 identifier closed by its destructor.
struct Id {
  hid_t id = -1;
  herr_t (*close)(hid_t) = nullptr;
  Id(hid_t i, herr_t (*c)(hid_t)) : id(i), close(c) {}
  Id(const Id&) = delete;
  Id& operator=(const Id&) = delete;
  ~Id() {
    if (id >= 0 && close) close(id);
  }
  operator hid_t() const { return id; }
};

void check(herr_t status, const std::string& what) {
  if (status < 0) throw SimulationError("HDF5: " + what + " failed");
}

hid_t checked(hid_t id, const std::string& what) {
  if (id < 0) throw SimulationError("HDF5: " + what + " failed");
  return id;
}

void attr_string(hid_t loc, const char* name, const std::string& value) {
  Id type(H5Tcopy(H5T_C_S1), H5Tclose);
  check(H5Tset_size(type, value.size() + 1), "string type");
  Id space(H5Screate(H5S_SCALAR), H5Sclose);
  Id a(checked(H5Acreate2(loc, name, type, space, H5P_DEFAULT, H5P_DEFAULT), name), H5Aclose);
  check(H5Awrite(a, type, value.c_str()), name);
}

void attr_strings(hid_t loc, const char* name, const std::vector<std::string>& values) {
  std::size_t len = 1;
  for (const auto& v : values) len = std::max(len, v.size() + 1);
  std::vector<char> buf(values.size() * len, '\0');
  for (std::size_t i = 0; i < values.size(); ++i) values[i].copy(&buf[i * len], values[i].size());
  Id type(H5Tcopy(H5T_C_S1), H5Tclose);
  check(H5Tset_size(type, len), "string type");
  const hsize_t dims[1] = {values.size()};
  Id space(H5Screate_simple(1, dims, nullptr), H5Sclose);
  Id a(checked(H5Acreate2(loc, name, type, space, H5P_DEFAULT, H5P_DEFAULT), name), H5Aclose);
  check(H5Awrite(a, type, buf.data()), name);
}

template <class T>
void attr_numbers(hid_t loc, const char* name, hid_t type, const std::vector<T>& values) {
  const hsize_t dims[1] = {values.size()};
  Id space(values.size() == 1 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, dims, nullptr),
           H5Sclose);
  Id a(checked(H5Acreate2(loc, name, type, space, H5P_DEFAULT, H5P_DEFAULT), name), H5Aclose);
  check(H5Awrite(a, type, values.data()), name);
}

hid_t group(hid_t loc, const char* name) {
  return checked(H5Gcreate2(loc, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), name);
}

// An extendable dataset of `rank` dimensions, the first one unlimited (frames).
void extendable(hid_t loc, const char* name, hid_t type, std::vector<hsize_t> frame_shape,
                hsize_t chunk_frames) {
  std::vector<hsize_t> dims{0}, maxdims{H5S_UNLIMITED}, chunk{chunk_frames};
  for (hsize_t s : frame_shape) {
    dims.push_back(s);
    maxdims.push_back(s);
    chunk.push_back(s);
  }
  const int rank = static_cast<int>(dims.size());
  Id space(H5Screate_simple(rank, dims.data(), maxdims.data()), H5Sclose);
  Id plist(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
  check(H5Pset_chunk(plist, rank, chunk.data()), "chunking");
  Id d(checked(H5Dcreate2(loc, name, type, space, H5P_DEFAULT, plist, H5P_DEFAULT), name),
       H5Dclose);
}

// A time-dependent H5MD element: a group with step, time and value.
void element(hid_t loc, const char* name, hid_t value_type, std::vector<hsize_t> frame_shape,
             hsize_t chunk_frames) {
  Id g(group(loc, name), H5Gclose);
  extendable(g, "step", H5T_NATIVE_LLONG, {}, 256);
  extendable(g, "time", H5T_NATIVE_DOUBLE, {}, 256);
  extendable(g, "value", value_type, frame_shape, chunk_frames);
}

// Sets the first dimension of a dataset to `frames`.
void resize(hid_t d, hsize_t frames) {
  Id space(H5Dget_space(d), H5Sclose);
  const int rank = H5Sget_simple_extent_ndims(space);
  std::vector<hsize_t> dims(rank);
  H5Sget_simple_extent_dims(space, dims.data(), nullptr);
  dims[0] = frames;
  check(H5Dset_extent(d, dims.data()), "resize");
}

// Writes one frame (index `frame`, already inside the extent) of a dataset.
void write_frame(hid_t d, hid_t mem_type, hsize_t frame, const void* data) {
  Id space(H5Dget_space(d), H5Sclose);
  const int rank = H5Sget_simple_extent_ndims(space);
  std::vector<hsize_t> dims(rank), start(rank, 0), count;
  H5Sget_simple_extent_dims(space, dims.data(), nullptr);
  start[0] = frame;
  count = dims;
  count[0] = 1;
  check(H5Sselect_hyperslab(space, H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr),
        "select");
  Id mem(H5Screate_simple(rank, count.data(), nullptr), H5Sclose);
  check(H5Dwrite(d, mem_type, mem, space, H5P_DEFAULT, data), "write");
}

template <class T>
std::vector<T> read_all(hid_t file, const char* path, hid_t mem_type) {
  Id d(checked(H5Dopen2(file, path, H5P_DEFAULT), path), H5Dclose);
  Id space(H5Dget_space(d), H5Sclose);
  const hssize_t n = H5Sget_simple_extent_npoints(space);
  std::vector<T> out(static_cast<std::size_t>(std::max<hssize_t>(n, 0)));
  if (n > 0) check(H5Dread(d, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()), path);
  return out;
}

const char* const kElements[] = {"/particles/all/box/edges", "/particles/all/position",
                                 "/particles/all/image"};

}  // namespace

struct H5mdWriter::Impl {
  hid_t file = -1;
  int dim = 3;
  int n = 0;
  hsize_t frames = 0;
  std::vector<float> pos;
  std::vector<int> img;
  ~Impl() {
    if (file >= 0) H5Fclose(file);
  }
};

H5mdWriter::H5mdWriter(const std::string& path, const Info& info, long keep_until_step)
    : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.dim = info.dimension;
  m.n = static_cast<int>(info.types.size());
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);  // errors become exceptions, not stack dumps
  std::error_code ec;
  if (keep_until_step >= 0 && std::filesystem::exists(path, ec)) {
    m.file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    if (m.file >= 0) {
      // Keep the frames up to the checkpoint's step.
      const auto steps =
          read_all<long long>(m.file, "/particles/all/position/step", H5T_NATIVE_LLONG);
      hsize_t keep = 0;
      while (keep < steps.size() && steps[keep] <= keep_until_step) ++keep;
      for (const char* e : kElements)
        for (const char* part : {"/step", "/time", "/value"}) {
          const std::string p = std::string(e) + part;
          Id d(checked(H5Dopen2(m.file, p.c_str(), H5P_DEFAULT), p), H5Dclose);
          resize(d, keep);
        }
      m.frames = keep;
      return;
    }
    // Unreadable (e.g. cut by a crash during a write): kept aside, a new file started.
    std::filesystem::rename(path, path + ".unreadable", ec);
  }
  m.file =
      checked(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), "creating " + path);
  {
    Id h5md(group(m.file, "h5md"), H5Gclose);
    attr_numbers<int>(h5md, "version", H5T_NATIVE_INT, {1, 1});
    Id author(group(h5md, "author"), H5Gclose);
    attr_string(author, "name", "vitrify user");
    Id creator(group(h5md, "creator"), H5Gclose);
    attr_string(creator, "name", "vitrify");
    attr_string(creator, "version", VITRIFY_VERSION);
  }
  Id particles(group(m.file, "particles"), H5Gclose);
  Id all(group(particles, "all"), H5Gclose);
  {
    Id box(group(all, "box"), H5Gclose);
    attr_numbers<int>(box, "dimension", H5T_NATIVE_INT, {info.dimension});
    attr_strings(box, "boundary", std::vector<std::string>(info.dimension, "periodic"));
    element(box, "edges", H5T_NATIVE_DOUBLE, {hsize_t(info.dimension)}, 64);
  }
  const hsize_t n = static_cast<hsize_t>(m.n), d = static_cast<hsize_t>(info.dimension);
  element(all, "position", H5T_NATIVE_FLOAT, {n, d}, 1);
  element(all, "image", H5T_NATIVE_INT, {n, d}, 1);
  {
    const hsize_t dims[1] = {n};
    Id space(H5Screate_simple(1, dims, nullptr), H5Sclose);
    Id sp(checked(H5Dcreate2(all, "species", H5T_NATIVE_INT, space, H5P_DEFAULT, H5P_DEFAULT,
                             H5P_DEFAULT),
                  "species"),
          H5Dclose);
    check(H5Dwrite(sp, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, info.types.data()),
          "species");
  }
  Id params(group(m.file, "parameters"), H5Gclose);
  Id v(group(params, "vitrify"), H5Gclose);
  attr_string(v, "model", info.model);
  attr_numbers<int>(v, "replica", H5T_NATIVE_INT, {info.replica});
  attr_numbers<double>(v, "temperature", H5T_NATIVE_DOUBLE, {info.temperature});
  attr_strings(v, "type_names", info.type_names);
  check(H5Fflush(m.file, H5F_SCOPE_GLOBAL), "flush");
}

H5mdWriter::~H5mdWriter() = default;

long H5mdWriter::frames() const { return static_cast<long>(impl_->frames); }

void H5mdWriter::append(const TrajectoryFrame& f) {
  Impl& m = *impl_;
  const int d = m.dim;
  m.pos.resize(static_cast<std::size_t>(m.n) * d);
  m.img.resize(m.pos.size());
  for (int i = 0; i < m.n; ++i) {
    const std::size_t b = static_cast<std::size_t>(i) * d;
    m.pos[b] = f.x[i];
    m.pos[b + 1] = f.y[i];
    m.img[b] = f.img_x[i];
    m.img[b + 1] = f.img_y[i];
    if (d == 3) {
      m.pos[b + 2] = f.z[i];
      m.img[b + 2] = f.img_z[i];
    }
  }
  const long long step = f.step;
  const void* values[3] = {f.box, m.pos.data(), m.img.data()};
  const hid_t types[3] = {H5T_NATIVE_DOUBLE, H5T_NATIVE_FLOAT, H5T_NATIVE_INT};
  for (int e = 0; e < 3; ++e) {
    const std::string base = kElements[e];
    Id ds(checked(H5Dopen2(m.file, (base + "/step").c_str(), H5P_DEFAULT), base), H5Dclose);
    Id dt(checked(H5Dopen2(m.file, (base + "/time").c_str(), H5P_DEFAULT), base), H5Dclose);
    Id dv(checked(H5Dopen2(m.file, (base + "/value").c_str(), H5P_DEFAULT), base), H5Dclose);
    for (hid_t dd : {ds.id, dt.id, dv.id}) resize(dd, m.frames + 1);
    write_frame(ds, H5T_NATIVE_LLONG, m.frames, &step);
    write_frame(dt, H5T_NATIVE_DOUBLE, m.frames, &f.time);
    write_frame(dv, types[e], m.frames, values[e]);
  }
  ++m.frames;
  check(H5Fflush(m.file, H5F_SCOPE_GLOBAL), "flush");
}

TrajectoryData read_h5md(const std::string& path) {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  Id file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  if (file.id < 0) throw InputError(path + ": not a readable HDF5 file");
  TrajectoryData t;
  t.species = read_all<int>(file, "/particles/all/species", H5T_NATIVE_INT);
  t.n = static_cast<int>(t.species.size());
  for (long long s : read_all<long long>(file, "/particles/all/position/step", H5T_NATIVE_LLONG))
    t.step.push_back(static_cast<long>(s));
  t.time = read_all<double>(file, "/particles/all/position/time", H5T_NATIVE_DOUBLE);
  t.edges = read_all<double>(file, "/particles/all/box/edges/value", H5T_NATIVE_DOUBLE);
  t.position = read_all<float>(file, "/particles/all/position/value", H5T_NATIVE_FLOAT);
  t.image = read_all<int>(file, "/particles/all/image/value", H5T_NATIVE_INT);
  t.dimension = t.step.empty() ? 0 : static_cast<int>(t.edges.size() / t.step.size());
  {
    Id g(H5Gopen2(file, "/parameters/vitrify", H5P_DEFAULT), H5Gclose);
    Id a(H5Aopen(g, "model", H5P_DEFAULT), H5Aclose);
    Id type(H5Aget_type(a), H5Tclose);
    std::string s(H5Tget_size(type), '\0');
    check(H5Aread(a, type, s.data()), "model");
    t.model = s.c_str();
  }
  return t;
}

#endif

}  // namespace vitrify
