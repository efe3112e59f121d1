#include "harness/tools.hpp"

#include <unistd.h>

#include <cstdlib>
#include <sstream>

#include <gtest/gtest.h>

namespace sipline::test {

bool running_in_ci() {
  const char* ci = std::getenv("CI");
  if (ci == nullptr) return false;
  const std::string v = ci;
  return v == "true" || v == "1" || v == "yes";
}

std::string find_tool(const std::string& name) {
  if (name.find('/') != std::string::npos) return ::access(name.c_str(), X_OK) == 0 ? name : "";
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    const std::string full = (dir.empty() ? "." : dir) + "/" + name;
    if (::access(full.c_str(), X_OK) == 0) return full;
  }
  return {};
}

namespace {
// GTEST_SKIP returns void, so it lives in a void helper; the skip still marks the current test.
void skip_test(const std::string& why) { GTEST_SKIP() << why; }
}  // namespace

bool require_tool(const std::string& name) {
  if (!find_tool(name).empty()) return true;
  if (running_in_ci()) {
    ADD_FAILURE() << "required tool '" << name << "' is not installed (CI=true: a missing tool is a failure; "
                  << "scripts/setup.sh installs it)";
  } else {
    skip_test("tool '" + name + "' is not installed (run scripts/setup.sh)");
  }
  return false;
}

}  // namespace sipline::test
