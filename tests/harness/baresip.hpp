#pragma once
// baresip 1.0 as a softphone for end-to-end tests, configured as in
// /work/shared/PEERS.md: its own folder (config, accounts, sndfile recordings,
// log), its own SIP port block (SIP on the port, TLS on port + 1), RTP range
// and ctrl_tcp port on 127.0.0.1; the srtp module loaded (an account's
// mediaenc=srtp or srtp-mand turns it on); audio from ausine (a sine at a chosen
// frequency), received and sent audio recorded by the sndfile module as
// dump-<time>-dec.wav and -enc.wav. Its life is bounded by `-t`.
// BaresipCtrl speaks ctrl_tcp: netstrings of JSON commands (dial, accept,
// hangup, quit; from the menu module) and the events baresip pushes
// (CALL_RINGING, CALL_ESTABLISHED, CALL_DTMF_START, CALL_CLOSED ...).
// Thread: the test's thread only.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/process.hpp"

namespace sipline::test {

// A ctrl_tcp client: sends commands, collects the JSON events and responses baresip pushes.
class BaresipCtrl {
 public:
  BaresipCtrl() = default;
  ~BaresipCtrl();
  BaresipCtrl(const BaresipCtrl&) = delete;
  BaresipCtrl& operator=(const BaresipCtrl&) = delete;

  // Connects to 127.0.0.1:port, retrying until `timeout` (baresip opens it late).
  bool connect_to(std::uint16_t port, std::chrono::milliseconds timeout);
  // {"command":command,"params":params,"token":"tN"} as one netstring.
  bool send(const std::string& command, const std::string& params = "");
  // Reads what has arrived (waiting up to `wait`) and parses complete netstrings.
  void pump(std::chrono::milliseconds wait);
  // True once an event of `type` (with `param` if non-empty) has arrived.
  bool wait_event(const std::string& type, const std::string& param, std::chrono::milliseconds timeout);
  bool has_event(const std::string& type, const std::string& param) const;
  // Every message received so far, one JSON per line, for failure messages.
  std::string transcript() const;

 private:
  int fd_ = -1;
  int token_ = 0;
  std::string buffer_;
  std::vector<nlohmann::json> messages_;
};

struct BaresipOptions {
  std::string dir = {};                 // its own folder (created if missing)
  int ausine_hz = 1000;                 // what it sends into a call
  std::string answermode = "manual";    // "manual" or "auto" (answers incoming calls itself)
  std::string account_params = {};      // appended to the account line, e.g. ";audio_codecs=PCMA"
  // The whole account line instead of "<sip:alice@127.0.0.1:port>;regint=0;...",
  // e.g. an account registering at the gateway; "" = the local default.
  std::string account = {};
  int lifetime_s = 90;                  // -t: it quits by itself after this
};

class Baresip {
 public:
  Baresip() = default;
  ~Baresip();
  Baresip(const Baresip&) = delete;
  Baresip& operator=(const Baresip&) = delete;

  // Writes the config, starts baresip and connects to its ctrl_tcp. False with
  // error() (holding the log tail) when it did not come up within 10 s.
  bool start(const BaresipOptions& options);
  const std::string& error() const { return error_; }

  std::uint16_t sip_port() const { return sip_port_; }
  // "sip:alice@127.0.0.1:<sip_port>": its account's address.
  std::string aor() const;
  BaresipCtrl& ctrl() { return ctrl_; }
  Process& process() { return process_; }
  std::string rec_dir() const { return dir_ + "/rec"; }
  // The sndfile recording whose name ends in `suffix` ("-dec.wav": what it
  // received, "-enc.wav": what it sent), or nullopt.
  std::optional<std::string> recording(const std::string& suffix) const;
  // Sends quit and waits up to `timeout` for it to exit (then terminates it):
  // sndfile closes its WAV files on the way out.
  void quit(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // Its log and the ctrl_tcp transcript, for failure messages.
  std::string diagnostics() const;

 private:
  std::string dir_;
  std::string error_;
  std::uint16_t sip_port_ = 0;
  std::uint16_t ctrl_port_ = 0;
  Process process_;
  BaresipCtrl ctrl_;
};

// The first sndfile dump (dump-*<suffix>) in `dir`, or nullopt.
std::optional<std::string> find_sndfile_dump(const std::string& dir, const std::string& suffix);

}  // namespace sipline::test
