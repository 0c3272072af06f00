#include "vitrify/io/output.hpp"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "vitrify/core/error.hpp"

namespace vitrify {

void write_text_atomic(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) throw InputError("cannot write " + tmp);
    f << text;
    f.flush();
    if (!f) throw InputError("write failed for " + tmp);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) throw InputError("cannot rename " + tmp + " to " + path + ": " + ec.message());
}

nlohmann::json sanitize_json(const nlohmann::json& j) {
  if (j.is_number_float()) return std::isfinite(j.get<double>()) ? j : nlohmann::json(nullptr);
  if (j.is_array() || j.is_object()) {
    nlohmann::json out = j;
    for (auto it = out.begin(); it != out.end(); ++it) *it = sanitize_json(*it);
    return out;
  }
  return j;
}

void write_json_atomic(const std::string& path, const nlohmann::json& j) {
  write_text_atomic(path, sanitize_json(j).dump(2) + "\n");
}

std::string replica_file(const std::string& dir, int replica, const std::string& ext) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "replica_%03d", replica);
  return dir + "/" + buf + ext;
}

}  // namespace vitrify
