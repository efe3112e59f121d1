#pragma once
// Rules for outside tools (sipp, baresip, sox, ...) that a test needs.
#include <string>

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

}  // namespace sipline::test
