#include "harness/tools.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <sstream>

#include <gtest/gtest.h>

#include "harness/process.hpp"

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

bool missing_prerequisite(const std::string& why, const std::string& ci_hint) {
  if (running_in_ci()) {
    ADD_FAILURE() << why << " (CI=true: a missing prerequisite is a failure; " << ci_hint << ")";
  } else {
    skip_test(why);
  }
  return false;
}

bool require_tool(const std::string& name) {
  if (!find_tool(name).empty()) return true;
  return missing_prerequisite("tool '" + name + "' is not installed (run scripts/setup.sh)",
                              "scripts/setup.sh installs it");
}

ToolRun run_tool(const std::vector<std::string>& argv, const std::string& log_path,
                 std::chrono::milliseconds timeout) {
  ToolRun run;
  std::remove(log_path.c_str());
  Process p;
  if (!p.start(command(argv, log_path))) {
    run.output = p.error();
    return run;
  }
  run.finished = p.wait_exit(timeout);
  if (!run.finished) p.terminate(std::chrono::seconds(1));
  run.exit_code = p.exit_code();
  run.output = p.log_text();
  return run;
}

}  // namespace sipline::test
