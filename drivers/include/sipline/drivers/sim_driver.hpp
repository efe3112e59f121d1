#pragma once
// The `sim` driver: simulated analog phones on FXS ports, and FXO ports on a
// simulated telephone exchange, all signalling with real audio, for tests,
// demos and load runs.
//
// A SimPhone sits at the far end of an FXS port. It has a hook switch, sees
// the ringing voltage (and counts rings), dials by sending real DTMF audio into
// the line or by rotary dial pulses, flashes the hook, can play a WAV file or
// a tone into the line, records what it hears (written out as a WAV file),
// detects DTMF digits it hears, reports how strongly it hears a given
// frequency, sees polarity reversals and battery drops, and can auto-answer
// after a delay. The port reads its hook switch as a line card does
// (HookClassifier, SimPhoneConfig::hook), so hook events are as timed as real
// ones: off_hook after debounce_ms, on_hook only after flash_max_ms.
//
// Threads: the phone's behaviour runs inside the port's read()/write() on the
// media worker (the 20 ms tick is the phone's clock, so it is deterministic in
// tests). Commands come from the control thread through a lock-free queue and
// take effect at the next tick; status() is a snapshot readable from any thread.
//
// An exchange line (SimExchangeLineConfig) is an FXO port: the gateway seizes
// it (set_hook(true)), hears dial tone, dials DTMF or pulses (pulse_dial), and
// the exchange routes the
// number to one of its SimSubscriberConfig subscribers (ringback, answer with
// an optional polarity reversal, busy, no answer; unknown numbers get SIT then
// congestion), or to another exchange line of the same driver by that line's
// number: the called line rings like an exchange_call() (caller ID = the
// caller's number, in the called line's profile), its port going off hook
// connects the two (audio both ways, frame by frame; the caller gets answer
// supervision), a busy line (or the line's own number) gives busy tone, and
// either side hanging up clears the other with its disconnect signal.
// exchange_call() rings the port with the profile's cadence and
// sends caller ID with the profile's (or the call's) alerting: first ring,
// line reversal, DT-AS, RP-AS or NTT's CAR with primary response.
// exchange_hangup() clears from the far end with the line's disconnect
// signal; exchange_dial() makes the far party press keys (DTMF into the line).
// The exchange reads the port's loop (its hook, pulse breaks included) through
// a HookClassifier with the line's HookTiming, as a real exchange would: a
// seizure counts after debounce_ms, a release only once the loop has been
// open longer than flash_max_ms (shorter breaks are dial pulses, or flashes,
// which it ignores). The exchange also runs in the port's read()/write() on the media
// tick; FXO events: ring_start/ring_stop (each edge of the ringing voltage,
// RP-AS and CAR included), polarity_reversal (every change, also the return
// to normal when a call clears), loop_drop, dial_complete (the port's own
// pulse dialer is done).
// Limits: no hook flash services (a flash is ignored); no permanent signal
// (dial tone without digits) timeout; one call per line.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sipline/base/result.hpp"
#include "sipline/drivers/line_driver.hpp"
#include "sipline/dsp/caller_id.hpp"
#include "sipline/dsp/echo_path.hpp"
#include "sipline/dsp/tone_profile.hpp"

namespace sipline::drivers {

enum class SimError { bad_port, bad_argument, io, busy };

struct SimPhoneStatus {
  bool off_hook = false;
  bool ringing = false;          // ring voltage is on right now
  int rings = 0;                 // rings seen since the phone last went on hook
  bool playing = false;          // a WAV file or tone is being sent into the line
  bool recording = false;
  bool polarity_reversed = false;
  uint64_t polarity_changes = 0; // changes of the line polarity since start (none missed between polls)
  bool battery = true;           // false during a disconnect_battery() interval (open switching interval)
  uint64_t battery_drops = 0;    // disconnect_battery() intervals since start (not reset by the hook)
  std::string heard_digits;      // DTMF digits detected in the audio heard, since off hook
  double listen_hz = 0;          // frequency being watched (0 = none)
  double listen_ratio = 0;       // its power ratio over the last 200 ms (0..1), see dsp::tone_power_ratio
  double level_dbfs = -120;      // level of what the phone hears, last 200 ms
  // Caller ID decoded from the line audio (on hook, or off hook during NTT's
  // primary response): how many messages so far, and the last one.
  int caller_id_count = 0;
  dsp::CallerIdMessage caller_id;
  // The ring voltage's on/off segments (ms) since this call began ringing
  // (the first is "on"); at most 16, the current one not included.
  std::vector<int> ring_segments_ms;
};

struct SimPhoneConfig {
  std::string name;              // e.g. "fxs1"
  int auto_answer_ms = -1;       // off hook this long after the first ring starts; -1 = never
  // The caller ID the phone decodes: one format, or all side by side
  // (`caller_id_auto`). A phone that decodes jclip (or auto) answers NTT's
  // CAR signal with the off-hook primary response.
  dsp::CallerIdFormat caller_id = dsp::CallerIdFormat::none;
  bool caller_id_auto = true;
  // How the port reads the phone's hook switch (the port's country profile):
  // the hook events it reports (off_hook after debounce_ms, on_hook once on
  // hook longer than flash_max_ms, flash, pulse_digit) come from a
  // HookClassifier with this timing; flash() defaults to its middle.
  dsp::HookTiming hook{};
  // The line's hybrid echo: what the phone hears comes back into what it
  // sends, delayed, smeared and attenuated (dsp::EchoPath); none = no echo.
  std::optional<dsp::EchoPathOptions> echo{};
};

// One exchange line: an FXO port (after the phones' ports, in this order).
struct SimExchangeLineConfig {
  std::string name{};    // e.g. "fxo1"; empty = "fxo<n>"
  std::string number{};  // this line's own number: other lines dial it to reach it (itself: busy)
  // Tones, ring cadence and caller ID timing; nullptr = the built-in "US".
  // Must outlive the driver (the built-in profiles are static).
  const dsp::ToneProfile* profile = nullptr;
  bool answer_polarity_reversal = true;  // reverse the line when the far party answers an outgoing call
  // How the exchange tells the FXO port the far party hung up: reverse the
  // polarity again, drop the loop current for loop_drop_ms (a loop_drop
  // event), busy tone until the port releases, or nothing at all (`silence`:
  // the line just goes quiet, as on many PBX and cable lines).
  enum class Disconnect { polarity_reversal, loop_drop, busy_tone, silence } disconnect = Disconnect::loop_drop;
  int loop_drop_ms = 800;
  // How the exchange reads the port's loop: seizure, release, dial pulses.
  dsp::HookTiming hook{};
  // The exchange side's hybrid echo of the port's audio (dsp::EchoPath); none = no echo.
  std::optional<dsp::EchoPathOptions> echo{};
};

// A subscriber of the exchange that the FXO ports can call (outgoing calls).
struct SimSubscriberConfig {
  std::string number{};  // DTMF digits
  enum class Behaviour { answer, busy, no_answer } behaviour = Behaviour::answer;
  int answer_after_ms = 2000;  // ringback this long, then answer
  int tone_hz = 0;             // plays this tone when connected (0 = silence)
  int hangup_after_ms = -1;    // hangs up this long after answering; -1 = never
};

struct SimDriverConfig {
  std::vector<SimPhoneConfig> phones{};
  std::vector<SimExchangeLineConfig> exchange_lines{};  // FXO ports, after the phones' FXS ports
  std::vector<SimSubscriberConfig> subscribers{};       // the exchange's numbers for outgoing calls
};

// An incoming call from the exchange to an FXO port.
struct SimIncomingCall {
  dsp::CallerId caller{};
  std::optional<dsp::CallerIdFormat> format{};  // default: the profile's (none = no caller ID)
  std::optional<dsp::CallerIdAlert> alert{};    // default: the profile's
  int tone_hz = 0;         // the caller's "voice" once answered (0 = silence)
  double listen_hz = 0;    // the caller listens for this frequency (0 = none)
};

struct SimExchangeStatus {
  // idle, dialtone, collecting, ringing_far, connected, busy, unobtainable,
  // ringing_line, caller_id, disconnected
  std::string state = "idle";
  bool seized = false;             // the exchange sees the FXO port off hook (through pulse breaks, until a release)
  bool polarity_reversed = false;
  bool ringing = false;            // ringing voltage on right now
  std::string digits{};            // dialed by the gateway (this call, at most 32)
  std::string far_number{};        // the number called, or the incoming caller's (another line's too)
  double listen_hz = 0;            // what the far party listens for
  double listen_ratio = 0;         // its power ratio in the gateway's audio, last 200 ms (0..1)
  int rings = 0;                   // normal rings of this incoming call (not RP-AS or CAR)
};

class SimDriver final : public LineDriver {
 public:
  explicit SimDriver(const SimDriverConfig& config);
  ~SimDriver() override;

  std::string_view name() const override { return "sim"; }
  std::size_t port_count() const override;
  LinePort& port(std::size_t index) override;
  int event_fd() const override;
  void drain_events(const std::function<void(const LineEvent&)>& handler) override;

  // Control thread: the phone on port `index`.
  base::Result<void> off_hook(std::size_t index);
  base::Result<void> on_hook(std::size_t index);
  // Dials DTMF digits as audio (on 80 ms, off 80 ms). Phone must be off hook
  // (or an off_hook() must be pending). 0-9 * # A-D (a-d accepted), at most 64
  // per call; hanging up cancels the digits not yet sent.
  // With `pulse`, dials 0-9 as a rotary dial does, at 10 pulses per second:
  // N loop breaks of 60 ms with makes of 40 ms (0 = 10 pulses), each digit
  // after the loop has been made for 700 ms (also the pause after off hook).
  // Digits and flashes are dialed in the order given.
  base::Result<void> dial(std::size_t index, const std::string& digits, bool pulse = false);
  // Hook flash (recall): opens the loop for `ms` (1..10000, rounded up to the
  // 20 ms tick; -1 = the middle of the port's flash_min_ms..flash_max_ms),
  // then closes it, after any digits still to dial and once the hook has
  // settled (debounce_ms and pulse_interdigit_ms made). Phone must be off hook.
  base::Result<void> flash(std::size_t index, int ms = -1);
  // Plays an 8 kHz mono 16-bit WAV file into the line (loops if `loop`).
  base::Result<void> play_file(std::size_t index, const std::string& path, bool loop = false);
  // Plays a continuous tone of one or two frequencies at `level_dbfs` into the line.
  // The level is per frequency (0 dBFS = full-scale square wave; a sum that
  // exceeds full scale is clipped). Replaces a WAV file being played, and vice versa.
  base::Result<void> play_tone(std::size_t index, int f1_hz, int f2_hz = 0, double level_dbfs = -10);
  base::Result<void> stop_playing(std::size_t index);
  // Records what the phone hears until stop_recording (at most 10 minutes), then writes `path`.
  // One frame per tick; silence while the phone is on hook.
  // stop_recording waits up to 200 ms for the media worker to hand the samples
  // over; with no tick in that time it fails with SimError::busy, and calling
  // it again after a tick writes the file.
  base::Result<void> start_recording(std::size_t index, const std::string& path);
  base::Result<void> stop_recording(std::size_t index);
  // Watch one frequency: status().listen_ratio reports its power ratio.
  base::Result<void> listen(std::size_t index, double freq_hz);
  // -1 disables auto-answer.
  base::Result<void> set_auto_answer(std::size_t index, int delay_ms);
  base::Result<SimPhoneStatus> status(std::size_t index) const;

  // Control thread: the exchange behind FXO port `index`. Errors: bad_port
  // (not an FXO port), busy (exchange_call: a call is already on the line or
  // posted, or the port is seized), bad_argument (a frequency out of range).
  // The caller ID audio is rendered here and handed to the media side.
  base::Result<void> exchange_call(std::size_t index, const SimIncomingCall& call);
  // The far party hangs up: the line's disconnect signal when connected; an
  // incoming call still ringing is abandoned (the ringing stops).
  base::Result<void> exchange_hangup(std::size_t index);
  // The far party listens for `freq_hz` (0 = off) in what the port sends
  // while connected (an exchange_call's listen_hz replaces it).
  base::Result<void> exchange_listen(std::size_t index, double freq_hz);
  // The far party presses keys: DTMF digits (0-9 * # A-D, a-d accepted, at
  // most 32 per call) sent into the line, 80 ms on and 80 ms off, at -10 dBm0
  // per tone (as the phones dial). Only once the call is answered (state
  // connected), else bad_argument; the digits not yet sent when the call ends
  // are dropped.
  base::Result<void> exchange_dial(std::size_t index, const std::string& digits);
  base::Result<SimExchangeStatus> exchange_status(std::size_t index) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sipline::drivers
