#pragma once
// Runs sipp (package sip-tester) as a bounded child process: its own SIP,
// media and control ports on 127.0.0.1, -nostdin, a call limit and a global
// timeout, message and error traces in its own directory. Exit code 0 means
// every call succeeded (1: some failed, 97/99: aborted, -1: killed).
// Thread: the test's thread only.
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "harness/process.hpp"

namespace sipline::test {

struct SippOptions {
  std::string scenario_file;      // -sf FILE; or
  std::string builtin;            // -sn NAME (uac, uas)
  std::string remote;             // "127.0.0.1:5060"; "" for a UAS that only answers
  std::string service;            // -s USER (the [service] keyword)
  int calls = 1;                  // -m
  int timeout_s = 30;             // -timeout (global), with -timeout_error
  std::vector<std::string> extra; // more arguments (e.g. -rtp_echo, -key k v)
};

class Sipp {
 public:
  // `dir` holds the log and sipp's trace files (it must exist).
  explicit Sipp(std::string dir);

  bool start(const SippOptions& options);
  std::uint16_t sip_port() const { return sip_port_; }
  std::uint16_t media_port() const { return media_port_; }
  // Waits for sipp to end by itself; kills it after `timeout` and returns false.
  bool wait(std::chrono::milliseconds timeout);
  Process& process() { return process_; }
  // The stdout/stderr log and every trace file in `dir`, for failure messages.
  std::string diagnostics() const;

 private:
  std::string dir_;
  Process process_;
  std::uint16_t sip_port_ = 0;
  std::uint16_t media_port_ = 0;
  std::uint16_t control_port_ = 0;
};

}  // namespace sipline::test
