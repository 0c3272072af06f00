// Every broken input of tests/data/broken/cases.json through the command line: the expected
// exit code (2 for bad input), the expected message fragments (file, place, reason), never a
// crash or an internal error, and no output written from a rejected input.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "tests/common/cli_util.hpp"
#include "vitrify/core/real.hpp"
#include "vitrify/io/config.hpp"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

using vitrify::test_util::Cmd;
using vitrify::test_util::read_file;
using vitrify::test_util::run_cli;
std::string temp_dir(const std::string& name) {
  return vitrify::test_util::fresh_temp_dir("vitrify_broken", name);
}

const std::string kBroken = std::string(VITRIFY_TEST_DATA) + "/broken";

std::string quote(const std::string& s) { return "'" + s + "'"; }

struct Case {
  std::string name, command, file, previous;
  int exit_code = 0;
  std::vector<std::string> messages;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

std::vector<Case> load_cases() {
  const json j = json::parse(read_file(kBroken + "/cases.json"));
  std::vector<Case> out;
  for (const json& c : j) {
    Case k;
    k.name = c.at("name").get<std::string>();
    k.command = c.at("command").get<std::string>();
    k.file = c.at("file").get<std::string>();
    if (c.contains("previous")) k.previous = c.at("previous").get<std::string>();
    k.exit_code = c.at("exit_code").get<int>();
    k.messages = c.at("messages").get<std::vector<std::string>>();
    out.push_back(k);
  }
  return out;
}

std::string test_name(const testing::TestParamInfo<Case>& info) {
  std::string n = info.param.name;
  for (char& ch : n)
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  return n;
}

class BrokenInputs : public testing::TestWithParam<Case> {};

}  // namespace

TEST(BrokenInputsManifest, ListsEveryFileAndEnoughCases) {
  const std::vector<Case> cases = load_cases();
  std::set<std::string> listed, names;
  std::map<std::string, int> broken_per_kind;
  for (const Case& c : cases) {
    EXPECT_TRUE(names.insert(c.name).second) << "case listed twice: " << c.name;
    EXPECT_TRUE(fs::is_regular_file(kBroken + "/" + c.file)) << c.file;
    EXPECT_FALSE(c.messages.empty()) << c.name << ": no expected message";
    listed.insert(c.file);
    if (!c.previous.empty()) listed.insert(c.previous);
    if (c.exit_code != 0) ++broken_per_kind[c.file.substr(0, c.file.find('/'))];
  }
  // Every file of the corpus is used by a case (or is the resume configuration).
  for (const auto& e : fs::recursive_directory_iterator(kBroken)) {
    if (!e.is_regular_file()) continue;
    const std::string rel = fs::relative(e.path(), kBroken).string();
    if (rel == "cases.json" || rel == "checkpoint/resume.json") continue;
    EXPECT_TRUE(listed.count(rel)) << rel << " is not listed in cases.json";
  }
  int total = 0;
  for (const char* kind : {"config", "xyz", "measurements", "checkpoint"}) {
    EXPECT_GE(broken_per_kind[kind], 8) << kind;
    total += broken_per_kind[kind];
  }
  EXPECT_GE(total, 50);
}

TEST_P(BrokenInputs, ExitCodeAndMessage) {
  const Case& c = GetParam();
  const std::string file = kBroken + "/" + c.file;
  const std::string dir = temp_dir(c.name);
  std::string args;
  std::string must_not_exist;
  if (c.command == "validate") {
    args = "validate " + quote(file);
  } else if (c.command.rfind("eval ", 0) == 0) {
    args = c.command + " " + quote(file);
  } else if (c.command == "analyze") {
    args = "analyze " + quote(file) + " -o " + quote(dir);
    must_not_exist = dir + "/analysis.json";
  } else if (c.command == "run") {
    // A run directory whose checkpoint.bin is the broken file (and checkpoint.prev.bin the
    // optional previous one), resumed with the configuration it was written with.
    if (sizeof(vitrify::real) != 4) GTEST_SKIP() << "the checkpoints hold 4-byte reals";
    fs::create_directories(dir);
    fs::copy_file(file, dir + "/checkpoint.bin");
    if (!c.previous.empty())
      fs::copy_file(kBroken + "/" + c.previous, dir + "/checkpoint.prev.bin");
    args = "run " + quote(kBroken + "/checkpoint/resume.json") + " -o " + quote(dir) + " -q";
    must_not_exist = dir + "/measurements.json";
  } else {
    FAIL() << c.name << ": unknown command " << c.command;
  }
  const Cmd r = run_cli(args);
  SCOPED_TRACE(c.name + ": vitrify " + args + "\n" + r.output);
  EXPECT_EQ(r.code, c.exit_code);
  EXPECT_GE(r.code, 0) << "killed by signal " << -r.code;
  EXPECT_EQ(r.output.find("internal error"), std::string::npos);
  EXPECT_EQ(r.output.find("runtime error"), std::string::npos);  // UBSan report
  EXPECT_EQ(r.output.find("AddressSanitizer"), std::string::npos);
  for (const std::string& m : c.messages)
    EXPECT_NE(r.output.find(m), std::string::npos) << "missing message fragment: " << m;
  if (c.exit_code != 0 && !must_not_exist.empty())
    EXPECT_FALSE(fs::exists(must_not_exist)) << "output written from a rejected input";
  fs::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Corpus, BrokenInputs, testing::ValuesIn(load_cases()), test_name);
