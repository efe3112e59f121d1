#pragma once
// Rules for outside tools (sipp, baresip, sox, ...) that a test needs.
#include <chrono>
#include <string>
#include <vector>

namespace sipline::test {

// True when CI=true (or 1) in the environment: missing tools are failures there.
bool running_in_ci();
// Full path of `name` found on PATH, or "".
std::string find_tool(const std::string& name);
// Returns true when the tool is on PATH. Otherwise, under CI it records a test
// failure (CI must run every test) and elsewhere it marks the test skipped;
// either way it returns false and the caller returns:
//   if (!require_tool("sipp")) return;
bool require_tool(const std::string& name);
// The rule behind require_tool for any prerequisite (a tool, root, a kernel
// feature): records a failure under CI (with `ci_hint` on how CI gets it),
// marks the test skipped elsewhere; returns false either way.
bool missing_prerequisite(const std::string& why, const std::string& ci_hint);

// A finished short-lived tool run (sox, multimon-ng): its stdout+stderr and how it ended.
struct ToolRun {
  bool finished = false;   // false: it was killed after the timeout
  int exit_code = -1;      // WEXITSTATUS, or -1 when it did not exit normally
  std::string output;      // stdout and stderr, interleaved
};
// Runs `argv` (argv[0] searched on PATH) with its output in `log_path`, waits at
// most `timeout` (then kills it), and returns the output. For a pipeline, pass
// {"sh", "-c", "a | b"}.
ToolRun run_tool(const std::vector<std::string>& argv, const std::string& log_path,
                 std::chrono::milliseconds timeout = std::chrono::seconds(20));

}  // namespace sipline::test
