#include "sipline/dsp/caller_id.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "sipline/dsp/goertzel.hpp"
#include "signals.hpp"

namespace sipline::dsp {
namespace {

constexpr CallerIdFormat kAllFormats[] = {CallerIdFormat::bell202_sdmf, CallerIdFormat::bell202_mdmf,
                                          CallerIdFormat::etsi,         CallerIdFormat::bt,
                                          CallerIdFormat::jclip,        CallerIdFormat::dtmf};

CallerId make_id(std::string number, std::string name, Absence number_absence = Absence::none,
                 Absence name_absence = Absence::none, int month = 0, int day = 0, int hour = 0, int minute = 0) {
  CallerId id;
  id.number = std::move(number);
  id.name = std::move(name);
  id.number_absence = number_absence;
  id.name_absence = name_absence;
  id.month = month;
  id.day = day;
  id.hour = hour;
  id.minute = minute;
  return id;
}

CallerId normal_call() { return make_id("+15551234567", "JOHN DOE", Absence::none, Absence::none, 12, 25, 9, 30); }
CallerId withheld_call() { return make_id("", "", Absence::withheld, Absence::withheld, 3, 7, 23, 5); }
CallerId unavailable_call() { return make_id("", "", Absence::unavailable, Absence::unavailable, 1, 1, 0, 0); }

// What a receiver should report for `sent` in `format`: what the format carries.
CallerId carried(CallerIdFormat format, CallerId sent) {
  if (!sent.number.empty() && sent.number.front() == '+') sent.number.erase(0, 1);
  if (format == CallerIdFormat::bell202_mdmf && sent.name.size() > 15) sent.name.resize(15);
  if (format == CallerIdFormat::bell202_sdmf || format == CallerIdFormat::jclip || format == CallerIdFormat::dtmf) {
    sent.name.clear();
    sent.name_absence = Absence::none;
  }
  if (format == CallerIdFormat::jclip || format == CallerIdFormat::dtmf) sent.month = sent.day = sent.hour = sent.minute = 0;
  return sent;
}

CallerIdFormat reported(CallerIdFormat format) { return format == CallerIdFormat::bt ? CallerIdFormat::etsi : format; }

// Feeds `audio` (padded to whole frames with silence) and returns the first message.
std::optional<CallerIdMessage> decode(CallerIdReceiver& rx, std::vector<int16_t> audio) {
  audio.resize((audio.size() + base::kFrameSamples - 1) / base::kFrameSamples * base::kFrameSamples, 0);
  std::optional<CallerIdMessage> first;
  for (const base::AudioFrame& frame : test::to_frames(audio)) {
    rx.process(frame);
    if (const CallerIdMessage* m = rx.take(); m != nullptr && !first) first = *m;
  }
  return first;
}

std::optional<CallerIdMessage> decode_as(CallerIdFormat format, std::vector<int16_t> audio, bool automatic = false) {
  CallerIdReceiver rx(format, automatic);
  return decode(rx, std::move(audio));
}

// `ms` of silence, the burst, then `ms` of silence.
std::vector<int16_t> with_silence(const std::vector<int16_t>& burst, int ms = 200) {
  std::vector<int16_t> out;
  test::append_silence(out, ms);
  out.insert(out.end(), burst.begin(), burst.end());
  test::append_silence(out, ms);
  return out;
}

double mean_square(std::span<const int16_t> s) {
  double e = 0;
  for (int16_t v : s) e += static_cast<double>(v) * v;
  return s.empty() ? 0 : e / static_cast<double>(s.size());
}

// dBm0 of a block's mean square, spandsp's convention (a sine of peak
// dbm0_to_peak(L) is L dBm0).
double dbm0_of(std::span<const int16_t> s) {
  const double p0 = test::dbm0_to_peak(0);
  return 10 * std::log10(mean_square(s) / (p0 * p0 / 2));
}

// The burst attenuated by `loss_db`, framed by silence, with white Gaussian
// noise at `snr_db` below the attenuated burst's power over the whole length.
std::vector<int16_t> impaired(const std::vector<int16_t>& burst, double loss_db, double snr_db, uint32_t seed) {
  std::vector<int16_t> out = with_silence(burst, 300);
  const double gain = std::pow(10.0, -loss_db / 20);
  const double signal_power = mean_square(burst) * gain * gain;
  std::mt19937 rng(seed);
  std::normal_distribution<double> noise(0.0, std::sqrt(signal_power / std::pow(10.0, snr_db / 10)));
  for (int16_t& v : out) v = static_cast<int16_t>(std::clamp(std::lround(v * gain + noise(rng)), -32768L, 32767L));
  return out;
}

// ------------------------------------------------------------------ names

TEST(CallerIdFormat, NamesRoundTrip) {
  for (CallerIdFormat f : {CallerIdFormat::none, CallerIdFormat::bell202_sdmf, CallerIdFormat::bell202_mdmf,
                           CallerIdFormat::etsi, CallerIdFormat::bt, CallerIdFormat::jclip, CallerIdFormat::dtmf}) {
    EXPECT_EQ(caller_id_format_from_string(to_string(f)), f) << to_string(f);
  }
  EXPECT_EQ(to_string(CallerIdFormat::bell202_mdmf), "bell202_mdmf");
  EXPECT_EQ(caller_id_format_from_string("v23"), std::nullopt);
  EXPECT_EQ(caller_id_format_from_string(""), std::nullopt);
  EXPECT_EQ(caller_id_format_from_string("ETSI"), std::nullopt);
}

TEST(CallerIdRender, NoneIsEmpty) { EXPECT_TRUE(render_caller_id(CallerIdFormat::none, normal_call()).empty()); }

// -------------------------------------------------------------- round trip

struct Case {
  const char* name;
  CallerId (*make)();
};
constexpr Case kCases[] = {{"normal", normal_call}, {"withheld", withheld_call}, {"unavailable", unavailable_call}};

TEST(CallerIdReceiver, EveryFormatRoundTripsWhatItCarries) {
  for (CallerIdFormat format : kAllFormats) {
    for (const Case& c : kCases) {
      SCOPED_TRACE(std::string(to_string(format)) + " " + c.name);
      const CallerId sent = c.make();
      const auto got = decode_as(format, with_silence(render_caller_id(format, sent)));
      ASSERT_TRUE(got.has_value());
      EXPECT_EQ(got->format, reported(format));
      EXPECT_EQ(got->id, carried(format, sent));
    }
  }
}

TEST(CallerIdReceiver, AutomaticNamesTheFormat) {
  for (CallerIdFormat format : kAllFormats) {
    for (const Case& c : kCases) {
      SCOPED_TRACE(std::string(to_string(format)) + " " + c.name);
      const CallerId sent = c.make();
      const auto got = decode_as(CallerIdFormat::none, with_silence(render_caller_id(format, sent)), true);
      ASSERT_TRUE(got.has_value());
      EXPECT_EQ(got->format, reported(format));
      EXPECT_EQ(got->id, carried(format, sent));
    }
  }
}

TEST(CallerIdReceiver, SdmfWithoutTimeReadsBackAsNoTime) {
  const CallerId sent = make_id("5551234", "");
  const auto got = decode_as(CallerIdFormat::bell202_sdmf, with_silence(render_caller_id(CallerIdFormat::bell202_sdmf, sent)));
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->id, sent);
}

TEST(CallerIdReceiver, NoNumberAndNoReasonIsSentAsUnavailable) {
  for (CallerIdFormat format : kAllFormats) {
    SCOPED_TRACE(to_string(format));
    const auto got = decode_as(format, with_silence(render_caller_id(format, CallerId{})));
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->id.number_absence, Absence::unavailable);
    EXPECT_TRUE(got->id.number.empty());
  }
}

TEST(CallerIdReceiver, LongNumbersAndNamesAreTruncated) {
  const CallerId sent = make_id("+123456789012345678901234", "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");
  for (CallerIdFormat format : {CallerIdFormat::bell202_mdmf, CallerIdFormat::etsi, CallerIdFormat::jclip,
                                CallerIdFormat::dtmf}) {
    SCOPED_TRACE(to_string(format));
    const auto got = decode_as(format, with_silence(render_caller_id(format, sent)));
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->id.number, "12345678901234567890");  // kMaxCallerIdNumber
    if (format == CallerIdFormat::bell202_mdmf) {
      EXPECT_EQ(got->id.name, "ABCDEFGHIJKLMNO");  // GR-30: 15
    }
    if (format == CallerIdFormat::etsi) {
      EXPECT_EQ(got->id.name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345");  // kMaxCallerIdName
    }
  }
}

// spandsp 0.0.6 DLE-stuffs a 16-octet field length for CLASS and CLIP too;
// render_caller_id undoes it. JCLIP's own stuffing of a field length
// survives both ways. (A 14-digit JCLIP number makes the message length 16,
// which spandsp's transmitter stuffs correctly but its receiver miscounts:
// such a message is not decoded; see caller_id.cpp.)
TEST(CallerIdReceiver, SixteenOctetFieldsSurvive) {
  for (CallerIdFormat format : {CallerIdFormat::bell202_mdmf, CallerIdFormat::etsi, CallerIdFormat::jclip}) {
    for (const std::string number : {"1234567890123456", "123456789012345", "12345678901234"}) {
      if (format == CallerIdFormat::jclip && number.size() == 14) continue;
      SCOPED_TRACE(std::string(to_string(format)) + " " + number);
      const CallerId sent = make_id(number, "SIXTEEN CHARS AB");
      const auto got = decode_as(format, with_silence(render_caller_id(format, sent)));
      ASSERT_TRUE(got.has_value());
      EXPECT_EQ(got->id, carried(format, sent));
    }
  }
}

// ------------------------------------------------------- format separation

TEST(CallerIdReceiver, IgnoresOtherFormatsAudio) {
  struct Pair {
    CallerIdFormat receiver, sender;
  };
  for (const Pair p : {Pair{CallerIdFormat::bell202_mdmf, CallerIdFormat::etsi},
                       Pair{CallerIdFormat::bell202_mdmf, CallerIdFormat::bt},
                       Pair{CallerIdFormat::bell202_sdmf, CallerIdFormat::jclip},
                       Pair{CallerIdFormat::etsi, CallerIdFormat::bell202_mdmf},
                       Pair{CallerIdFormat::etsi, CallerIdFormat::jclip},
                       Pair{CallerIdFormat::jclip, CallerIdFormat::etsi},
                       Pair{CallerIdFormat::jclip, CallerIdFormat::bell202_mdmf},
                       Pair{CallerIdFormat::dtmf, CallerIdFormat::etsi},
                       Pair{CallerIdFormat::etsi, CallerIdFormat::dtmf},
                       Pair{CallerIdFormat::bell202_mdmf, CallerIdFormat::dtmf}}) {
    SCOPED_TRACE(std::string(to_string(p.receiver)) + " hearing " + std::string(to_string(p.sender)));
    EXPECT_FALSE(decode_as(p.receiver, with_silence(render_caller_id(p.sender, normal_call()))).has_value());
  }
}

TEST(CallerIdReceiver, NoneWithoutAutomaticHearsNothing) {
  EXPECT_FALSE(decode_as(CallerIdFormat::none, with_silence(render_caller_id(CallerIdFormat::etsi, normal_call()))));
}

// ------------------------------------------------------------- robustness

// 6 dB more loss than the nominal -13 dBm0 send level and white Gaussian
// noise 20 dB below the signal: the impairment spandsp's own adsi tests
// decode through, and within the receiver sensitivity ETSI EN 300 659-1 and
// Bellcore GR-30 ask of CPE (about -40 dBm0 with a 20 dB signal to noise
// ratio). Fixed seeds keep the test deterministic.
TEST(CallerIdReceiver, DecodesThroughLossAndNoise) {
  uint32_t seed = 1;
  for (CallerIdFormat format : {CallerIdFormat::bell202_mdmf, CallerIdFormat::etsi, CallerIdFormat::dtmf}) {
    for (const Case& c : kCases) {
      for (bool automatic : {false, true}) {
        SCOPED_TRACE(std::string(to_string(format)) + " " + c.name + (automatic ? " automatic" : ""));
        const CallerId sent = c.make();
        const auto audio = impaired(render_caller_id(format, sent), 6.0, 20.0, seed++);
        const auto got = decode_as(format, audio, automatic);
        ASSERT_TRUE(got.has_value());
        EXPECT_EQ(got->format, format);
        EXPECT_EQ(got->id, carried(format, sent));
      }
    }
  }
}

TEST(CallerIdReceiver, TruncatedMessageIsNotReported) {
  for (CallerIdFormat format : {CallerIdFormat::bell202_sdmf, CallerIdFormat::bell202_mdmf, CallerIdFormat::etsi,
                                CallerIdFormat::jclip, CallerIdFormat::dtmf}) {
    SCOPED_TRACE(to_string(format));
    std::vector<int16_t> burst = render_caller_id(format, normal_call());
    burst.resize(burst.size() / 2);
    EXPECT_FALSE(decode_as(format, with_silence(burst)).has_value());
    EXPECT_FALSE(decode_as(format, with_silence(burst), true).has_value());
  }
}

TEST(CallerIdReceiver, DamagedDataIsNotReported) {
  // 10 ms of the data (after the seizure and mark) replaced by silence: the
  // sumcheck fails and spandsp drops the message.
  for (CallerIdFormat format : {CallerIdFormat::bell202_mdmf, CallerIdFormat::etsi}) {
    SCOPED_TRACE(to_string(format));
    std::vector<int16_t> burst = render_caller_id(format, normal_call());
    const std::size_t at = burst.size() * 3 / 4;
    std::fill_n(burst.begin() + static_cast<std::ptrdiff_t>(at), 80, int16_t{0});
    EXPECT_FALSE(decode_as(format, with_silence(burst)).has_value());
  }
}

TEST(CallerIdReceiver, TakeReportsEachMessageOnce) {
  CallerIdReceiver rx(CallerIdFormat::etsi);
  std::vector<int16_t> audio = with_silence(render_caller_id(CallerIdFormat::etsi, normal_call()));
  audio.resize(audio.size() / base::kFrameSamples * base::kFrameSamples);
  int messages = 0;
  for (const base::AudioFrame& frame : test::to_frames(audio)) {
    rx.process(frame);
    if (rx.take() != nullptr) ++messages;
    EXPECT_EQ(rx.take(), nullptr);
  }
  EXPECT_EQ(messages, 1);
}

TEST(CallerIdReceiver, ResetForgetsAPartialMessage) {
  const std::vector<int16_t> burst = render_caller_id(CallerIdFormat::bell202_mdmf, normal_call());
  CallerIdReceiver rx(CallerIdFormat::bell202_mdmf);
  EXPECT_FALSE(decode(rx, std::vector<int16_t>(burst.begin(), burst.begin() + static_cast<std::ptrdiff_t>(burst.size() / 2))));
  rx.reset();
  const auto got = decode(rx, with_silence(burst));
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->id, carried(CallerIdFormat::bell202_mdmf, normal_call()));
}

TEST(CallerIdReceiver, MovedReceiverKeepsWorking) {
  CallerIdReceiver a(CallerIdFormat::none, true);
  CallerIdReceiver b = std::move(a);
  const auto got = decode(b, with_silence(render_caller_id(CallerIdFormat::jclip, normal_call())));
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->format, CallerIdFormat::jclip);
}

// ------------------------------------------------------------ the signals

TEST(CallerIdRender, FskIsAtTheRequestedLevel) {
  for (CallerIdFormat format : {CallerIdFormat::bell202_mdmf, CallerIdFormat::etsi, CallerIdFormat::jclip}) {
    for (double level : {-13.0, -20.5}) {
      SCOPED_TRACE(std::string(to_string(format)) + " " + std::to_string(level));
      const auto burst = render_caller_id(format, normal_call(), level);
      ASSERT_GT(burst.size(), 1000u);
      // Continuous-phase FSK: a constant envelope from start to end.
      const std::span<const int16_t> middle(burst.data() + burst.size() / 4, burst.size() / 2);
      EXPECT_NEAR(dbm0_of(middle), level, 0.3);
    }
  }
}

TEST(CallerIdRender, DtmfIsAtTheRequestedLevelPerTone) {
  const auto burst = render_caller_id(CallerIdFormat::dtmf, normal_call(), -7.0);
  // The first digit, 'A' (697 + 1633 Hz), for its first 40 ms.
  const std::span<const int16_t> digit(burst.data() + 8, 320);
  EXPECT_NEAR(dbm0_of(digit), -7.0 + 3.01, 0.3);  // two tones at -7 dBm0 each
  EXPECT_GT(tone_power_ratio(digit, 697) + tone_power_ratio(digit, 1633), 0.9);
}

TEST(CallerIdRender, BtUsesSin227Preamble) {
  // ETSI: spandsp's 300 seizure bits and 80 marks; BT: 200 and 72 (SIN 227:
  // 96-315 and 55-90). Same message, so the difference is the preamble.
  const auto etsi = render_caller_id(CallerIdFormat::etsi, normal_call());
  const auto bt = render_caller_id(CallerIdFormat::bt, normal_call());
  const double bits = (300 + 80 - 200 - 72);
  EXPECT_NEAR(static_cast<double>(etsi.size()) - static_cast<double>(bt.size()), bits * base::kSampleRate / 1200.0, 8);
}

TEST(CallerIdAlertTone, IsBothFrequenciesForTheDuration) {
  const auto tone = render_alert_tone(100, -20.0);
  ASSERT_EQ(tone.size(), 800u);
  const std::span<const int16_t> body(tone.data() + 40, 720);
  const double low = tone_power_ratio(body, 2130), high = tone_power_ratio(body, 2750);
  EXPECT_GT(low, 0.4);
  EXPECT_GT(high, 0.4);
  EXPECT_GT(low + high, 0.95);
  EXPECT_NEAR(dbm0_of(body), -20.0 + 3.01, 0.3);
  EXPECT_EQ(render_alert_tone(88).size(), 704u);
  EXPECT_NEAR(dbm0_of(std::span<const int16_t>(render_alert_tone(100, -13.5)).subspan(40, 720)), -13.5 + 3.01, 0.3);
}

}  // namespace
}  // namespace sipline::dsp
