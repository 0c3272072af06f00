#pragma once
// Output helpers: every file is written to a temporary name, flushed and renamed, so a crash
// never leaves a half-written JSON or CSV behind.
#include <nlohmann/json.hpp>
#include <string>

namespace vitrify {

void write_text_atomic(const std::string& path, const std::string& text);
void write_json_atomic(const std::string& path, const nlohmann::json& j);
// "<dir>/replica_007<ext>"
std::string replica_file(const std::string& dir, int replica, const std::string& ext);
// Replaces NaN/Inf by null recursively (JSON has no NaN).
nlohmann::json sanitize_json(const nlohmann::json& j);

}  // namespace vitrify
