#pragma once
// A child process for tests: fork/exec with argv and extra environment, its
// stdout and stderr appended to one log file, optional stdin file (a FIFO for
// baresip) and working directory. The child gets SIGKILL if the test process
// dies (PR_SET_PDEATHSIG), so no daemon outlives a crashed test.
// Every wait has a hard timeout and polls with short sleeps; the destructor
// kills a child that is still running.
// Thread: the test's thread only.
#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace sipline::test {

struct ProcessOptions {
  std::vector<std::string> argv;      // argv[0] is the program (PATH is searched)
  std::vector<std::string> env;       // extra "NAME=value" entries on top of ours
  std::string log_path;               // stdout+stderr go here (appended); required
  std::string cwd;                    // "" = inherit
  std::string stdin_path;             // "" = /dev/null; opened read-write (FIFOs)
};

// The common case: argv and a log file, everything else default.
inline ProcessOptions command(std::vector<std::string> argv, std::string log_path) {
  ProcessOptions o;
  o.argv = std::move(argv);
  o.log_path = std::move(log_path);
  return o;
}

class Process {
 public:
  Process() = default;
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  Process(Process&& other) noexcept;
  Process& operator=(Process&& other) noexcept;

  // Starts the child. Returns false (with error()) if fork fails; an exec
  // failure shows as exit code 127 and a line in the log.
  bool start(ProcessOptions options);

  pid_t pid() const { return pid_; }
  const std::string& log_path() const { return options_.log_path; }
  const std::string& error() const { return error_; }

  // True while the child has not been reaped.
  bool running();
  // Waits up to `timeout` for the child to exit; true if it has.
  bool wait_exit(std::chrono::milliseconds timeout);
  // SIGTERM, wait up to `grace`, then SIGKILL. Returns once reaped.
  void terminate(std::chrono::milliseconds grace = std::chrono::seconds(5));
  void send_signal(int signo);

  // After exit: the raw wait status and its readings.
  bool exited() const { return status_.has_value(); }
  bool exited_normally() const;        // WIFEXITED
  int exit_code() const;               // WEXITSTATUS, or -1
  int term_signal() const;             // WTERMSIG, or 0
  std::string describe_exit() const;   // "exit 0", "signal 11 (Segmentation fault)", "running"

  // Whole log so far, and a poll until a line matches `regex` (ECMAScript).
  std::string log_text() const;
  bool wait_for_log(const std::string& regex, std::chrono::milliseconds timeout);
  // Last `lines` lines of the log, for failure messages.
  std::string log_tail(std::size_t lines = 40) const;

 private:
  bool reap(bool block);

  ProcessOptions options_;
  pid_t pid_ = -1;
  std::optional<int> status_;
  std::string error_;
};

// Sleeps in short steps until `pred` is true or `timeout` passes; returns pred's last value.
template <class Pred>
bool poll_until(Pred&& pred, std::chrono::milliseconds timeout,
                std::chrono::milliseconds step = std::chrono::milliseconds(50));

// Reads a whole file ("" if missing).
std::string read_file(const std::string& path);
// Creates a fresh directory under $TMPDIR (or /tmp) named prefix-XXXXXX.
std::string make_temp_dir(const std::string& prefix);
// Removes a directory tree (best effort).
void remove_tree(const std::string& path);

}  // namespace sipline::test

#include <thread>

namespace sipline::test {

template <class Pred>
bool poll_until(Pred&& pred, std::chrono::milliseconds timeout, std::chrono::milliseconds step) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (pred()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(step);
  }
}

}  // namespace sipline::test
