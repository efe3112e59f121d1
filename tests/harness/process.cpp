#include "harness/process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

extern char** environ;

namespace sipline::test {

Process::~Process() {
  if (pid_ > 0 && !status_) {
    ::kill(pid_, SIGKILL);
    reap(true);
  }
}

Process::Process(Process&& other) noexcept
    : options_(std::move(other.options_)), pid_(other.pid_), status_(other.status_), error_(std::move(other.error_)) {
  other.pid_ = -1;
  other.status_.reset();
}

Process& Process::operator=(Process&& other) noexcept {
  if (this != &other) {
    if (pid_ > 0 && !status_) {
      ::kill(pid_, SIGKILL);
      reap(true);
    }
    options_ = std::move(other.options_);
    pid_ = other.pid_;
    status_ = other.status_;
    error_ = std::move(other.error_);
    other.pid_ = -1;
    other.status_.reset();
  }
  return *this;
}

bool Process::start(ProcessOptions options) {
  options_ = std::move(options);
  status_.reset();
  if (options_.argv.empty() || options_.log_path.empty()) {
    error_ = "argv and log_path are required";
    return false;
  }
  // Everything the child needs is prepared before fork: no allocation after it.
  std::vector<char*> argv;
  for (auto& a : options_.argv) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) env_strings.emplace_back(*e);
  for (const auto& add : options_.env) {
    const auto name = add.substr(0, add.find('=') + 1);
    std::erase_if(env_strings, [&](const std::string& s) { return s.rfind(name, 0) == 0; });
    env_strings.push_back(add);
  }
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);

  const int log_fd = ::open(options_.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    error_ = "cannot open log " + options_.log_path + ": " + std::strerror(errno);
    return false;
  }
  const std::string in_path = options_.stdin_path.empty() ? "/dev/null" : options_.stdin_path;
  // O_RDWR so that opening a FIFO does not block waiting for a writer.
  const int in_fd = ::open(in_path.c_str(), O_RDWR | O_CLOEXEC);
  if (in_fd < 0) {
    error_ = "cannot open stdin " + in_path + ": " + std::strerror(errno);
    ::close(log_fd);
    return false;
  }
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    error_ = std::string("fork: ") + std::strerror(errno);
    ::close(log_fd);
    ::close(in_fd);
    return false;
  }
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(126);
    ::setpgid(0, 0);
    ::dup2(in_fd, STDIN_FILENO);
    ::dup2(log_fd, STDOUT_FILENO);
    ::dup2(log_fd, STDERR_FILENO);
    if (!options_.cwd.empty() && ::chdir(options_.cwd.c_str()) != 0) {
      const char msg[] = "harness: chdir failed\n";
      [[maybe_unused]] auto n = ::write(STDERR_FILENO, msg, sizeof msg - 1);
      ::_exit(127);
    }
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execvpe(argv[0], argv.data(), envp.data());
    const char msg[] = "harness: exec failed\n";
    [[maybe_unused]] auto n = ::write(STDERR_FILENO, msg, sizeof msg - 1);
    ::_exit(127);
  }
  ::close(log_fd);
  ::close(in_fd);
  pid_ = pid;
  return true;
}

bool Process::reap(bool block) {
  if (pid_ <= 0) return true;
  if (status_) return true;
  int status = 0;
  pid_t r;
  do {
    r = ::waitpid(pid_, &status, block ? 0 : WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r == pid_) {
    status_ = status;
    return true;
  }
  if (r < 0) {  // not our child any more (should not happen): treat as gone
    status_ = 0xff00;
    return true;
  }
  return false;
}

bool Process::running() { return pid_ > 0 && !reap(false); }

bool Process::wait_exit(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return true;
  return poll_until([&] { return reap(false); }, timeout, std::chrono::milliseconds(20));
}

void Process::send_signal(int signo) {
  if (pid_ > 0 && !status_) ::kill(pid_, signo);
}

void Process::terminate(std::chrono::milliseconds grace) {
  if (pid_ <= 0 || status_) return;
  ::kill(pid_, SIGTERM);
  if (!wait_exit(grace)) {
    ::kill(pid_, SIGKILL);
    reap(true);
  }
}

bool Process::exited_normally() const { return status_ && WIFEXITED(*status_); }
int Process::exit_code() const { return exited_normally() ? WEXITSTATUS(*status_) : -1; }
int Process::term_signal() const { return status_ && WIFSIGNALED(*status_) ? WTERMSIG(*status_) : 0; }

std::string Process::describe_exit() const {
  if (!status_) return "running";
  if (WIFEXITED(*status_)) return "exit " + std::to_string(WEXITSTATUS(*status_));
  if (WIFSIGNALED(*status_)) {
    const int sig = WTERMSIG(*status_);
    return "signal " + std::to_string(sig) + " (" + ::strsignal(sig) + ")";
  }
  return "status " + std::to_string(*status_);
}

std::string Process::log_text() const { return read_file(options_.log_path); }

bool Process::wait_for_log(const std::string& regex, std::chrono::milliseconds timeout) {
  const std::regex re(regex);
  return poll_until(
      [&] {
        std::istringstream in(log_text());
        std::string line;
        while (std::getline(in, line)) {
          if (std::regex_search(line, re)) return true;
        }
        return false;
      },
      timeout);
}

std::string Process::log_tail(std::size_t lines) const {
  const std::string text = log_text();
  std::size_t pos = text.size();
  std::size_t count = 0;
  while (pos > 0 && count <= lines) {
    pos = text.rfind('\n', pos - 1);
    if (pos == std::string::npos) {
      pos = 0;
      break;
    }
    ++count;
  }
  return text.substr(pos);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string make_temp_dir(const std::string& prefix) {
  const char* tmp = std::getenv("TMPDIR");
  std::string templ = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/" + prefix + "-XXXXXX";
  if (::mkdtemp(templ.data()) == nullptr) return {};
  return templ;
}

void remove_tree(const std::string& path) {
  std::error_code ec;
  if (!path.empty()) std::filesystem::remove_all(path, ec);
}

}  // namespace sipline::test
