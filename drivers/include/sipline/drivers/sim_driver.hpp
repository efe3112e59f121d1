#pragma once
// The `sim` driver: simulated analog phones on FXS ports that signal with real
// audio, for tests, demos and load runs.
//
// A SimPhone sits at the far end of an FXS port. It has a hook switch, sees
// the ringing voltage (and counts rings), dials by sending real DTMF audio into
// the line, can play a WAV file or a tone into the line, records what it hears
// (written out as a WAV file), detects DTMF digits it hears, reports how
// strongly it hears a given frequency, and can auto-answer after a delay.
//
// Threads: the phone's behaviour runs inside the port's read()/write() on the
// media worker (the 20 ms tick is the phone's clock, so it is deterministic in
// tests). Commands come from the control thread through a lock-free queue and
// take effect at the next tick; status() is a snapshot readable from any thread.
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "sipline/base/result.hpp"
#include "sipline/drivers/line_driver.hpp"
#include "sipline/dsp/caller_id.hpp"

namespace sipline::drivers {

enum class SimError { bad_port, bad_argument, io, busy };

struct SimPhoneStatus {
  bool off_hook = false;
  bool ringing = false;          // ring voltage is on right now
  int rings = 0;                 // rings seen since the phone last went on hook
  bool playing = false;          // a WAV file or tone is being sent into the line
  bool recording = false;
  bool polarity_reversed = false;
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
};

struct SimDriverConfig {
  std::vector<SimPhoneConfig> phones;
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
  base::Result<void> dial(std::size_t index, const std::string& digits);
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

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sipline::drivers
