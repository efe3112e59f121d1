#include "config/config.hpp"
#include "sipline/dsp/tone_profile_toml.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <stdlib.h>

#include <gtest/gtest.h>

namespace sipline::gateway::config {
namespace {

// Expects parse_config(text) to fail with `code` and a message that starts
// with "test.toml:<line>:<column>: " and contains `what`.
void expect_error(std::string_view text, ConfigError code, int line, int column, std::string_view what) {
  auto r = parse_config(text, "test.toml");
  ASSERT_FALSE(r) << text;
  EXPECT_TRUE(r.error().is(code)) << r.error().message();
  const std::string prefix = "test.toml:" + std::to_string(line) + ":" + std::to_string(column) + ": ";
  EXPECT_EQ(r.error().message().rfind(prefix, 0), 0u) << r.error().message() << " (want " << prefix << ")";
  EXPECT_NE(r.error().message().find(what), std::string::npos) << r.error().message();
}

// As above, without a column.
void expect_invalid_at_line(std::string_view text, int line, std::string_view what) {
  auto r = parse_config(text, "test.toml");
  ASSERT_FALSE(r) << text;
  EXPECT_TRUE(r.error().is(ConfigError::invalid)) << r.error().message();
  const std::string prefix = "test.toml:" + std::to_string(line) + ":";
  EXPECT_EQ(r.error().message().rfind(prefix, 0), 0u) << r.error().message() << " (want " << prefix << ")";
  EXPECT_NE(r.error().message().find(what), std::string::npos) << r.error().message();
}

TEST(Config, EmbeddedDefaultParses) {
  auto c = default_config();
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->source, "<embedded default>");
  EXPECT_EQ(c->sip.address, "127.0.0.1");
  EXPECT_EQ(c->sip.port, 5060);
  EXPECT_TRUE(c->sip.udp);
  EXPECT_TRUE(c->sip.tcp);
  EXPECT_EQ(c->media.rtp_address, "127.0.0.1");  // "" resolved to sip.address
  EXPECT_GE(c->media.workers, 1);                 // 0 resolved to the core count
  EXPECT_EQ(c->media.codecs, (std::vector{media::AudioCodec::pcmu, media::AudioCodec::pcma}));
  EXPECT_EQ(c->media.dtmf_payload_type, 101);
  EXPECT_EQ(c->control.socket, "/tmp/sipline.sock");
  EXPECT_EQ(c->log.level, "info");
  EXPECT_EQ(c->lines.driver, "sim");
  ASSERT_EQ(c->lines.ports.size(), 2u);
  EXPECT_EQ(c->lines.ports[0].name, "fxs1");
  EXPECT_EQ(c->lines.ports[0].number, "201");
  EXPECT_EQ(c->lines.ports[0].country, "US");  // "" resolved to lines.country
  EXPECT_EQ(c->lines.ports[1].number, "202");
  ASSERT_EQ(c->dial_plan.rules().size(), 1u);
  EXPECT_EQ(c->dial_plan.match("202").target, "sip:202@127.0.0.1:5060");
}

TEST(Config, EmptyFileGivesTheSameDefaults) {
  auto empty = parse_config("", "empty.toml");
  ASSERT_TRUE(empty) << empty.error().message();
  auto embedded = default_config();
  ASSERT_TRUE(embedded);
  EXPECT_EQ(empty->source, "empty.toml");
  EXPECT_EQ(empty->sip.address, embedded->sip.address);
  EXPECT_EQ(empty->sip.port, embedded->sip.port);
  EXPECT_EQ(empty->media.rtp_address, embedded->media.rtp_address);
  EXPECT_EQ(empty->media.rtp_port_min, embedded->media.rtp_port_min);
  EXPECT_EQ(empty->media.rtp_port_max, embedded->media.rtp_port_max);
  EXPECT_EQ(empty->media.codecs, embedded->media.codecs);
  EXPECT_EQ(empty->media.jitter_buffer_ms, embedded->media.jitter_buffer_ms);
  EXPECT_EQ(empty->lines.country, embedded->lines.country);
  EXPECT_EQ(empty->lines.interdigit_timeout_ms, embedded->lines.interdigit_timeout_ms);
  ASSERT_EQ(empty->lines.ports.size(), embedded->lines.ports.size());
  for (std::size_t i = 0; i < empty->lines.ports.size(); ++i) {
    EXPECT_EQ(empty->lines.ports[i].name, embedded->lines.ports[i].name);
    EXPECT_EQ(empty->lines.ports[i].number, embedded->lines.ports[i].number);
    EXPECT_EQ(empty->lines.ports[i].country, embedded->lines.ports[i].country);
    EXPECT_EQ(empty->lines.ports[i].auto_answer_ms, embedded->lines.ports[i].auto_answer_ms);
  }
  ASSERT_EQ(empty->dial_plan.rules().size(), 1u);
  EXPECT_EQ(empty->dial_plan.rules()[0].pattern, embedded->dial_plan.rules()[0].pattern);
  EXPECT_EQ(empty->dial_plan.rules()[0].target, embedded->dial_plan.rules()[0].target);
}

TEST(Config, ResolvesAddressesAndDefaultRuleFromSip) {
  auto c = parse_config("[sip]\naddress = \"::1\"\nport = 5070\n[media]\nworkers = 3\n", "t.toml");
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->media.rtp_address, "::1");
  EXPECT_EQ(c->media.workers, 3);
  EXPECT_EQ(c->dial_plan.match("201").target, "sip:201@[::1]:5070");

  auto own = parse_config("[sip]\naddress = \"10.0.0.5\"\n[media]\nrtp_address = \"10.0.0.6\"\n", "t.toml");
  ASSERT_TRUE(own) << own.error().message();
  EXPECT_EQ(own->media.rtp_address, "10.0.0.6");
}

TEST(Config, ReadsPortsAndDialPlanInOrder) {
  auto c = parse_config(R"(
[media]
codecs = ["pcma", "PcMu"]
dtmf_payload_type = -1
[sip]
transports = ["udp"]
[[lines.port]]
name = "kitchen"
number = "301"
auto_answer_ms = 500
[[dialplan]]
pattern = "911"
target = "sip:911@pstn.example"
[[dialplan]]
pattern = "3XX"
target = "sip:$digits@127.0.0.1"
)",
                        "t.toml");
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->media.codecs, (std::vector{media::AudioCodec::pcma, media::AudioCodec::pcmu}));
  EXPECT_EQ(c->media.dtmf_payload_type, -1);
  EXPECT_TRUE(c->sip.udp);
  EXPECT_FALSE(c->sip.tcp);
  ASSERT_EQ(c->lines.ports.size(), 1u);
  EXPECT_EQ(c->lines.ports[0].name, "kitchen");
  EXPECT_EQ(c->lines.ports[0].auto_answer_ms, 500);
  ASSERT_EQ(c->dial_plan.rules().size(), 2u);
  EXPECT_EQ(c->dial_plan.match("911").target, "sip:911@pstn.example");
  EXPECT_EQ(c->dial_plan.match("301").target, "sip:301@127.0.0.1");
}

TEST(Config, PortCallerIdFormatsOverrideTheProfileAndTheSimPhoneDecodesAutoByDefault) {
  auto c = parse_config(R"(
[[lines.port]]
name = "a"
number = "301"
caller_id = "DTMF"
phone_caller_id = "dtmf"
[[lines.port]]
name = "b"
number = "302"
caller_id = "none"
phone_caller_id = "auto"
[[lines.port]]
name = "c"
number = "303"
)",
                        "t.toml");
  ASSERT_TRUE(c) << c.error().message();
  ASSERT_EQ(c->lines.ports.size(), 3u);
  EXPECT_EQ(c->lines.ports[0].caller_id, dsp::CallerIdFormat::dtmf);
  EXPECT_EQ(c->lines.ports[0].phone_caller_id, dsp::CallerIdFormat::dtmf);
  EXPECT_EQ(c->lines.ports[1].caller_id, dsp::CallerIdFormat::none);
  EXPECT_FALSE(c->lines.ports[1].phone_caller_id.has_value());  // auto
  EXPECT_FALSE(c->lines.ports[2].caller_id.has_value());        // the country profile's
  EXPECT_FALSE(c->lines.ports[2].phone_caller_id.has_value());
  expect_invalid_at_line("[[lines.port]]\nname = \"a\"\nnumber = \"1\"\ncaller_id = \"fsk\"\n", 4,
                         "lines.port.caller_id: unknown caller ID format \"fsk\"");
  expect_invalid_at_line("[[lines.port]]\nname = \"a\"\nnumber = \"1\"\ncaller_id = \"auto\"\n", 4,
                         "lines.port.caller_id");
  expect_invalid_at_line("[[lines.port]]\nname = \"a\"\nnumber = \"1\"\nphone_caller_id = 3\n", 4,
                         "phone_caller_id");
}

TEST(Config, CountriesOverrideABuiltInProfileKeyByKey) {
  auto c = parse_config(R"(
[countries.us]
ring_cadence_ms = [1000, 3000]
[countries.us.caller_id]
format = "bell202_sdmf"
[lines]
country = "US"
)",
                        "t.toml");
  ASSERT_TRUE(c) << c.error().message();
  const dsp::ToneProfile* us = c->lines.profile("us");
  ASSERT_NE(us, nullptr);
  EXPECT_EQ(us->ring_cadence_ms, (std::vector<int>{1000, 3000}));
  EXPECT_EQ(us->caller_id.format, dsp::CallerIdFormat::bell202_sdmf);
  const dsp::ToneProfile* builtin = dsp::find_tone_profile("US");
  EXPECT_EQ(us->caller_id.alert, builtin->caller_id.alert);      // the rest is the built-in's
  EXPECT_EQ(us->dial.steps.size(), builtin->dial.steps.size());
  EXPECT_EQ(c->lines.profile("JP"), dsp::find_tone_profile("JP"));  // not overridden
  EXPECT_EQ(c->lines.profile("GB"), dsp::find_tone_profile("UK"));
}

TEST(Config, CountriesDefineANewCountryOnlyCompletely) {
  // A complete profile: the built-in US file under another name.
  std::string us_file(dsp::built_in_profile_files()[0].text);
  const std::string us_line = "country = \"US\"";
  ASSERT_NE(us_file.find(us_line), std::string::npos);
  us_file.replace(us_file.find(us_line), us_line.size(), "country = \"CA\"");
  // Its tables become [countries.CA.*].
  std::string text;
  std::istringstream in(us_file);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line[0] == '[') line = "[countries.CA." + line.substr(1);
    text += line + "\n";
  }
  // Top-level keys go first, under [countries.CA].
  auto c = parse_config("[countries.CA]\n" + text + "[lines]\ncountry = \"CA\"\n", "t.toml");
  ASSERT_TRUE(c) << c.error().message();
  ASSERT_NE(c->lines.profile("CA"), nullptr);
  EXPECT_EQ(c->lines.ports[0].country, "CA");

  // Only a few keys for a country without a built-in profile: every key is needed.
  expect_invalid_at_line("[countries.IT]\ncountry = \"IT\"\nring_cadence_ms = [1000, 4000]\n", 1,
                         "every key is needed");
  expect_invalid_at_line("[lines]\ncountry = \"IT\"\n", 2, "unknown country \"IT\"");
}

TEST(Config, CountriesErrorsNameTheKeyAndLine) {
  expect_invalid_at_line("[countries.US]\nring_cadence_ms = [1000, 0]\n", 2, "countries.US.ring_cadence_ms");
  expect_invalid_at_line("[countries.US.caller_id]\nformat = \"fsk\"\n", 2, "countries.US.caller_id.format");
  expect_invalid_at_line("[countries.US]\ncountry = \"JP\"\n", 2, "does not match");
  expect_invalid_at_line("[countries]\nUS = 3\n", 2, "countries.US");
}

TEST(Config, FxoPortsNeedATargetAndComeAfterTheFxsPorts) {
  auto c = parse_config(R"(
[[lines.port]]
name = "line"
kind = "fxo"
number = "5550100"
forward_to = "user:alice"
rings_before_forward = 3
[[lines.port]]
name = "phone"
number = "201"
)",
                        "t.toml");
  ASSERT_TRUE(c) << c.error().message();
  ASSERT_EQ(c->lines.ports.size(), 2u);
  EXPECT_EQ(c->lines.ports[0].name, "phone");  // FXS first: line numbers follow the driver's ports
  EXPECT_EQ(c->lines.ports[1].kind, PortKind::fxo);
  EXPECT_EQ(c->lines.ports[1].forward_to, "user:alice");
  EXPECT_EQ(c->lines.ports[1].rings_before_forward, 3);
  EXPECT_FALSE(c->lines.ports[1].caller_id.has_value());  // detection: auto

  const std::string fxo = "[[lines.port]]\nname = \"l\"\nkind = \"fxo\"\nnumber = \"1\"\n";
  expect_invalid_at_line(fxo, 1, "an FXO port needs forward_to");
  expect_invalid_at_line(fxo + "forward_to = \"201\"\n", 5, "neither a sip:/sips: URI nor user:NAME");
  expect_invalid_at_line(fxo + "forward_to = \"sip:a@b\"\nrings_before_forward = 0\n", 6, "rings_before_forward");
  expect_invalid_at_line("[[lines.port]]\nname = \"p\"\nnumber = \"1\"\nforward_to = \"sip:a@b\"\n", 4,
                         "only for kind = \"fxo\"");
  expect_invalid_at_line("[[lines.port]]\nname = \"p\"\nkind = \"fxx\"\nnumber = \"1\"\n", 3, "(fxs, fxo)");
}

TEST(Config, DisaPulseDialingAndSilenceOnFxoPorts) {
  auto c = parse_config(R"(
[lines]
howler_after_ms = 5000
howler_ms = 0
[[lines.port]]
name = "phone"
number = "201"
polarity_on_answer = true
reoriginate = true
[[lines.port]]
name = "line"
kind = "fxo"
number = "5550100"
dial_mode = "pulse"
silence_timeout_s = 60
disa_pin = "4711"
disa_allow = ["+12025550150", "2025550151"]
permissions = ["international"]
)",
                        "t.toml");
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->lines.howler_after_ms, 5000);
  EXPECT_EQ(c->lines.howler_ms, 0);
  const auto& phone = c->lines.ports[0];
  EXPECT_TRUE(phone.polarity_on_answer);
  EXPECT_TRUE(phone.reoriginate);
  const auto& line = c->lines.ports[1];
  EXPECT_EQ(line.dial_mode, "pulse");
  EXPECT_EQ(line.silence_timeout_s, 60);
  EXPECT_EQ(line.disa_pin, "4711");  // a PIN alone makes forward_to optional: every caller keys it
  EXPECT_EQ(line.disa_allow, (std::vector<std::string>{"+12025550150", "2025550151"}));
  EXPECT_TRUE(line.forward_to.empty());

  auto defaults = parse_config("", "t.toml");
  ASSERT_TRUE(defaults);
  EXPECT_EQ(defaults->lines.howler_after_ms, 30000);
  EXPECT_FALSE(defaults->lines.ports[0].reoriginate);

  const std::string fxo = "[[lines.port]]\nname = \"l\"\nkind = \"fxo\"\nnumber = \"1\"\n";
  expect_invalid_at_line(fxo + "disa_pin = \"12\"\n", 5, "4 to 16 digits");
  expect_invalid_at_line(fxo + "disa_pin = \"12a4\"\n", 5, "4 to 16 digits");
  expect_invalid_at_line(fxo + "forward_to = \"sip:a@b\"\ndisa_allow = [\"12-34\"]\n", 6, "not a caller ID number");
  // An allow-list alone still needs a target for everyone else.
  expect_invalid_at_line(fxo + "disa_allow = [\"1234\"]\n", 1, "needs forward_to");
  expect_invalid_at_line(fxo + "forward_to = \"sip:a@b\"\ndial_mode = \"rotary\"\n", 6, "dtmf or pulse");
  expect_invalid_at_line(fxo + "forward_to = \"sip:a@b\"\nsim_disconnect = \"hum\"\n", 6, "or silence");
  expect_invalid_at_line(fxo + "forward_to = \"sip:a@b\"\nreoriginate = true\n", 6, "only for kind = \"fxs\"");
  expect_invalid_at_line("[[lines.port]]\nname = \"p\"\nnumber = \"1\"\ndisa_pin = \"1234\"\n", 4,
                         "only for kind = \"fxo\"");
  expect_invalid_at_line("[lines]\nhowler_after_ms = 10\n", 2, "howler_after_ms");
}

TEST(Config, FxoAnswerPolicyAndTheSimulatedExchange) {
  auto c = parse_config(R"(
[[lines.port]]
name = "line"
kind = "fxo"
number = "5550100"
forward_to = "sip:201@127.0.0.1"
answer_on = "voice"
sim_answer_polarity = false
sim_disconnect = "busy_tone"
[[sim.subscriber]]
number = "5551234"
behaviour = "busy"
tone_hz = 1000
)",
                        "t.toml");
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->lines.ports[0].answer_on, "voice");
  EXPECT_FALSE(c->lines.ports[0].sim_answer_polarity);
  EXPECT_EQ(c->lines.ports[0].sim_disconnect, "busy_tone");
  ASSERT_EQ(c->sim.subscribers.size(), 1u);
  EXPECT_EQ(c->sim.subscribers[0].behaviour, "busy");
  EXPECT_EQ(c->sim.subscribers[0].tone_hz, 1000);
  const std::string fxo =
      "[[lines.port]]\nname = \"l\"\nkind = \"fxo\"\nnumber = \"1\"\nforward_to = \"sip:a@b\"\n";
  expect_invalid_at_line(fxo + "answer_on = \"ring\"\n", 6, "polarity, dialed or voice");
  expect_invalid_at_line(fxo + "sim_disconnect = \"cut\"\n", 6, "loop_drop, polarity_reversal, busy_tone or silence");
  expect_invalid_at_line(fxo + "sim_answer_polarity = 1\n", 6, "a boolean");
  expect_invalid_at_line("[[sim.subscriber]]\nnumber = \"12a\"\n", 1, "DTMF digits");
  expect_invalid_at_line("[[sim.subscriber]]\nnumber = \"1\"\nbehaviour = \"maybe\"\n", 3, "answer, busy or no_answer");
  expect_invalid_at_line("[sim]\nphones = 1\n", 2, "'phones'");
}

TEST(Config, DahdiPortsNameTheirChannelOnce) {
  auto c = parse_config(R"(
[lines]
driver = "dahdi"
[[lines.port]]
name = "phone"
number = "201"
dahdi_channel = 1
[[lines.port]]
name = "line"
kind = "fxo"
number = "5550100"
forward_to = "sip:201@127.0.0.1"
dahdi_channel = 4
dahdi_span = 1
)",
                        "t.toml");
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->lines.driver, "dahdi");
  EXPECT_EQ(c->lines.dahdi_device, "/dev/dahdi/channel");
  EXPECT_EQ(c->lines.ports[0].dahdi_channel, 1);
  EXPECT_EQ(c->lines.ports[1].dahdi_channel, 4);
  EXPECT_EQ(c->lines.ports[1].dahdi_span, 1);
  expect_invalid_at_line("[lines]\ndriver = \"dahdi\"\n[[lines.port]]\nname = \"p\"\nnumber = \"1\"\n", 3,
                         "needs dahdi_channel");
  expect_invalid_at_line("[lines]\ndriver = \"dahdi\"\n[[lines.port]]\nname = \"p\"\nnumber = \"1\"\ndahdi_channel = 1\n"
                         "[[lines.port]]\nname = \"q\"\nnumber = \"2\"\ndahdi_channel = 1\n",
                         10, "used twice");
  expect_invalid_at_line("[[lines.port]]\nname = \"p\"\nnumber = \"1\"\ndahdi_channel = 1\n", 4,
                         "only with lines.driver = \"dahdi\"");
  expect_invalid_at_line("[lines]\ndriver = \"zap\"\n", 2, "(sim, dahdi)");
}

TEST(Config, SyntaxErrorReportsLineAndColumn) {
  // An unterminated string: toml++ points at the newline that ends it.
  expect_error("[sip]\nport = 5060\naddress = \"127.0.0.1\n", ConfigError::syntax, 3, 21, "string");
  expect_error("[sip]\nport = = 5060\n", ConfigError::syntax, 2, 8, "");
}

TEST(Config, UnknownKeyIsAnErrorNamingTheKeyAndLine) {
  expect_error("[sip]\nport = 5060\nprot = 5060\n", ConfigError::invalid, 3, 1, "'prot'");
  expect_error("[sip]\n  prot = 5060\n", ConfigError::invalid, 2, 3, "[sip]");
  expect_invalid_at_line("[lines]\ncountry = \"US\"\n[[lines.port]]\nname = \"a\"\nnumber = \"1\"\nnubmer = \"2\"\n",
                         6, "'nubmer'");
  expect_invalid_at_line("[sipp]\nport = 1\n", 1, "'sipp'");
}

TEST(Config, WrongTypeIsAnError) {
  expect_error("[sip]\nport = \"5060\"\n", ConfigError::invalid, 2, 8, "sip.port: expected an integer, got a string");
  expect_invalid_at_line("[media]\ncodecs = \"PCMU\"\n", 2, "media.codecs: expected an array");
  expect_invalid_at_line("[media]\ncodecs = [\"PCMU\", 8]\n", 2, "a string, got an integer");
  expect_invalid_at_line("\n\nsip = 5\n", 3, "sip: expected a table");
  expect_invalid_at_line("[media]\njitter_buffer_ms = 60.0\n", 2, "got a float");
}

TEST(Config, OutOfRangeValuesAreErrors) {
  expect_invalid_at_line("[sip]\nport = 70000\n", 2, "sip.port: 70000 is out of range 1..65535");
  expect_invalid_at_line("[sip]\nport = 0\n", 2, "out of range");
  expect_invalid_at_line("[media]\nrtp_port_min = 20001\n", 2, "even");
  expect_invalid_at_line("[media]\nrtp_port_min = 20000\nrtp_port_max = 10000\n", 2, "less than");
  expect_invalid_at_line("[media]\ndtmf_payload_type = 50\n", 2, "96..127");
  expect_invalid_at_line("[media]\njitter_buffer_ms = 70\n", 2, "multiple of 20");
  expect_invalid_at_line("[sip]\nno_answer_timeout_s = 0\n", 2, "out of range");
  expect_invalid_at_line("[lines]\ninterdigit_timeout_ms = 100\n", 2, "out of range");
  expect_invalid_at_line("[sip]\naddress = \"pbx.example\"\n", 2, "not an IPv4 or IPv6 address");
  expect_invalid_at_line("[log]\nlevel = \"loud\"\n", 2, "loud");
}

TEST(Config, DuplicatePortsAreErrors) {
  expect_invalid_at_line(R"([[lines.port]]
name = "a"
number = "201"
[[lines.port]]
name = "b"
number = "201"
)",
                         6, "duplicate number \"201\"");
  expect_invalid_at_line(R"([[lines.port]]
name = "a"
number = "201"
[[lines.port]]
name = "a"
number = "202"
)",
                         5, "duplicate port name \"a\"");
  expect_invalid_at_line("[[lines.port]]\nname = \"a\"\nnumber = \"20x\"\n", 3, "digits");
  expect_invalid_at_line("[lines]\nport = []\n", 2, "at least one [[lines.port]]");
  expect_invalid_at_line("[lines]\nport = [1]\n", 2, "an array of tables");
  expect_invalid_at_line("\ndialplan = []\n", 2, "at least one [[dialplan]]");
}

TEST(Config, UnknownCodecIsAnError) {
  expect_error("[media]\ncodecs = [\"PCMU\", \"G729\"]\n", ConfigError::invalid, 2, 19, "unknown codec \"G729\"");
  expect_invalid_at_line("[media]\ncodecs = [\"PCMU\", \"pcmu\"]\n", 2, "twice");
  expect_invalid_at_line("[media]\ncodecs = []\n", 2, "must not be empty");
}

TEST(ConfigSrtp, DefaultsToOptionalWithAllThreeSuites) {
  auto c = parse_config("", "test.toml");
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->media.srtp, media::SrtpPolicy::optional);
  ASSERT_EQ(c->media.srtp_suites.size(), 3u);
  EXPECT_EQ(c->media.srtp_suites[0], media::SrtpSuite::aes_cm_128_hmac_sha1_80);
  auto embedded = default_config();
  ASSERT_TRUE(embedded);
  EXPECT_EQ(embedded->media.srtp, c->media.srtp);
  EXPECT_EQ(embedded->media.srtp_suites, c->media.srtp_suites);
}

TEST(ConfigSrtp, ReadsPolicyAndSuiteOrder) {
  auto c = parse_config("[media]\nsrtp = \"mandatory\"\nsrtp_suites = [\"AEAD_AES_128_GCM\", \"aes_cm_128_hmac_sha1_80\"]\n",
                        "test.toml");
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->media.srtp, media::SrtpPolicy::mandatory);
  EXPECT_EQ(c->media.srtp_suites,
            (std::vector{media::SrtpSuite::aead_aes_128_gcm, media::SrtpSuite::aes_cm_128_hmac_sha1_80}));
}

TEST(ConfigSrtp, BadValuesAreErrorsAtTheirLine) {
  expect_invalid_at_line("[media]\nsrtp = \"required\"\n", 2, "media.srtp: unknown policy \"required\"");
  expect_invalid_at_line("[media]\nsrtp_suites = []\n", 2, "media.srtp_suites: must not be empty");
  expect_invalid_at_line("[media]\nsrtp_suites = [\"F8_128_HMAC_SHA1_80\"]\n", 2, "unknown suite");
  expect_invalid_at_line("[media]\n\nsrtp_suites = [\"AEAD_AES_128_GCM\", \"AEAD_AES_128_GCM\"]\n", 3, "listed twice");
}

TEST(ConfigEcho, SiplineCancellerWithA32MsTailOnEveryPortByDefault) {
  auto c = parse_config("", "test.toml");
  ASSERT_TRUE(c) << c.error().message();
  ASSERT_TRUE(c->media.echo_canceller.has_value());
  EXPECT_EQ(*c->media.echo_canceller, dsp::EchoCancellerKind::sipline);
  EXPECT_EQ(c->media.echo_tail_ms, 32);
  for (const auto& p : c->lines.ports) {
    EXPECT_TRUE(p.echo_cancel);
    EXPECT_FALSE(p.sim_echo.has_value());
    EXPECT_EQ(p.rx_gain_db, 0);
    EXPECT_EQ(p.tx_gain_db, 0);
  }
}

TEST(ConfigEcho, ReadsTheCancellerTailGainsAndTheSimulatedHybrid) {
  auto c = parse_config(R"([media]
echo_canceller = "speex"
echo_tail_ms = 128
[[lines.port]]
name = "fxs1"
number = "201"
echo_cancel = false
rx_gain_db = -3.5
tx_gain_db = 6
sim_echo = { erl_db = 6, delay_ms = 8, dispersion_ms = 12, noise_dbm0 = -60, seed = 7 }
)",
                        "test.toml");
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(*c->media.echo_canceller, dsp::EchoCancellerKind::speex);
  EXPECT_EQ(c->media.echo_tail_ms, 128);
  const auto& p = c->lines.ports.at(0);
  EXPECT_FALSE(p.echo_cancel);
  EXPECT_DOUBLE_EQ(p.rx_gain_db, -3.5);
  EXPECT_DOUBLE_EQ(p.tx_gain_db, 6);
  ASSERT_TRUE(p.sim_echo.has_value());
  EXPECT_DOUBLE_EQ(p.sim_echo->erl_db, 6);
  EXPECT_EQ(p.sim_echo->delay_ms, 8);
  EXPECT_EQ(p.sim_echo->dispersion_ms, 12);
  EXPECT_DOUBLE_EQ(p.sim_echo->noise_dbm0, -60);
  EXPECT_EQ(p.sim_echo->seed, 7u);
  auto off = parse_config("[media]\necho_canceller = \"off\"\n", "test.toml");
  ASSERT_TRUE(off) << off.error().message();
  EXPECT_FALSE(off->media.echo_canceller.has_value());
}

TEST(ConfigEcho, BadValuesAreErrorsAtTheirLine) {
  expect_invalid_at_line("[media]\necho_canceller = \"oslec\"\n", 2, "is not sipline, spandsp, speex or off");
  expect_invalid_at_line("[media]\necho_tail_ms = 256\n", 2, "media.echo_tail_ms: 256 is out of range 8..128");
  const std::string port = "[[lines.port]]\nname = \"fxs1\"\nnumber = \"201\"\n";
  expect_invalid_at_line(port + "rx_gain_db = 30\n", 4, "lines.port.rx_gain_db");
  expect_invalid_at_line(port + "tx_gain_db = \"loud\"\n", 4, "expected a number");
  expect_invalid_at_line(port + "sim_echo = { erl_db = 6, tail = 3 }\n", 4, "unknown key 'tail'");
  expect_invalid_at_line(port + "sim_echo = { delay_ms = 500 }\n", 4, "lines.port.sim_echo.delay_ms");
  expect_invalid_at_line(port + "sim_echo = 6\n", 4, "expected a table");
}

TEST(Config, UnknownCountryIsAnError) {
  expect_invalid_at_line("[lines]\ncountry = \"XX\"\n", 2, "unknown country \"XX\"");
  expect_invalid_at_line("[[lines.port]]\nname = \"a\"\nnumber = \"1\"\ncountry = \"ZZ\"\n", 4,
                         "lines.port.country");
  auto jp = parse_config("[lines]\ncountry = \"jp\"\n[[lines.port]]\nname = \"a\"\nnumber = \"1\"\n"
                         "[[lines.port]]\nname = \"b\"\nnumber = \"2\"\ncountry = \"de\"\n",
                         "t.toml");
  ASSERT_TRUE(jp) << jp.error().message();
  EXPECT_EQ(jp->lines.ports[0].country, "JP");
  EXPECT_EQ(jp->lines.ports[1].country, "DE");
}

TEST(Config, BadDialPlanRulePointsAtItsLine) {
  expect_invalid_at_line("[[dialplan]]\npattern = \"2XX\"\ntarget = \"sip:$digits@h\"\n"
                         "[[dialplan]]\npattern = \"[5-\"\ntarget = \"sip:$digits@h\"\n",
                         5, "\"[5-\"");
  expect_invalid_at_line("[[dialplan]]\npattern = \"2XX\"\ntarget = \"tel:$digits\"\n", 3, "sip:");
  expect_invalid_at_line("[[dialplan]]\npattern = \"2XX\"\n", 1, "needs 'target' or 'steps'");
}

TEST(Config, LoadsAFileAndReportsAMissingOne) {
  const auto path = (std::filesystem::temp_directory_path() / "sipline_config_test.toml").string();
  std::ofstream(path) << "[sip]\nport = 5080\n";
  auto c = load_config_file(path);
  std::filesystem::remove(path);
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->sip.port, 5080);
  EXPECT_EQ(c->source, path);

  auto missing = load_config_file("/nonexistent/sipline.toml");
  ASSERT_FALSE(missing);
  EXPECT_TRUE(missing.error().is(ConfigError::io));
  EXPECT_NE(missing.error().message().find("/nonexistent/sipline.toml"), std::string::npos);
}


// --- [enum] -----------------------------------------------------------------

TEST(ConfigEnum, DefaultsWithoutTheSection) {
  auto c = parse_config("", "t.toml");
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->enum_lookup.suffixes, (std::vector<std::string>{"e164.arpa"}));
  EXPECT_TRUE(c->enum_lookup.servers.empty());
  EXPECT_EQ(c->enum_lookup.timeout_ms, 1500);
  EXPECT_EQ(c->enum_lookup.max_depth, 4);
  EXPECT_EQ(c->enum_lookup.cache_entries, 10000);
  EXPECT_EQ(c->routing.country, "US");
  EXPECT_EQ(c->routing.sip_callers, SipCallerMode::bridge);
  EXPECT_TRUE(c->trunks.empty());
  for (const auto& port : c->lines.ports) EXPECT_TRUE(port.did.empty());
}

TEST(ConfigEnum, ReadsSuffixesServersAndLimits) {
  auto c = parse_config(R"([enum]
suffixes = ["e164.sipline.test", "e164.arpa."]
servers = ["127.0.0.1:5353", "[::1]:53", "192.0.2.53", "[2001:db8::53]"]
timeout_ms = 50
max_depth = 0
cache_entries = 0
)",
                        "t.toml");
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->enum_lookup.suffixes, (std::vector<std::string>{"e164.sipline.test", "e164.arpa."}));
  EXPECT_EQ(c->enum_lookup.servers,
            (std::vector<std::string>{"127.0.0.1:5353", "[::1]:53", "192.0.2.53", "[2001:db8::53]"}));
  EXPECT_EQ(c->enum_lookup.timeout_ms, 50);
  EXPECT_EQ(c->enum_lookup.max_depth, 0);
  EXPECT_EQ(c->enum_lookup.cache_entries, 0);

  auto top = parse_config("[enum]\ntimeout_ms = 10000\nmax_depth = 16\ncache_entries = 1000000\nservers = []\n", "t.toml");
  ASSERT_TRUE(top) << top.error().message();
  EXPECT_EQ(top->enum_lookup.timeout_ms, 10000);
  EXPECT_TRUE(top->enum_lookup.servers.empty());
}

TEST(ConfigEnum, BadServersAreErrorsAtTheirLine) {
  for (const char* server : {"localhost", "dns.example:53", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536",
                             "127.0.0.1:5x", "[::1", "[::1]53", "[::1]:", "[127.0.0.1]:53", "", "1.2.3:53"}) {
    expect_invalid_at_line(std::string("[enum]\ntimeout_ms = 100\nservers = [\n  \"") + server + "\"]\n", 4,
                           std::string("enum.servers: \"") + server + "\"");
  }
  expect_invalid_at_line("[enum]\nservers = \"127.0.0.1\"\n", 2, "array");
  // A bare IPv6 literal is a server on port 53 ("::1:53" is the address ::1:53).
  EXPECT_TRUE(parse_config("[enum]\nservers = [\"::1\", \"::1:53\", \"[::1]:5353\"]\n", "test.toml"));
}

TEST(ConfigEnum, BadSuffixesAndRangesAreErrors) {
  expect_invalid_at_line("[enum]\nsuffixes = [\"e164.arpa\", \"bad suffix\"]\n", 2, "\"bad suffix\" is not a domain name");
  expect_invalid_at_line("[enum]\nsuffixes = [\"\"]\n", 2, "not a domain name");
  expect_invalid_at_line("[enum]\nsuffixes = [\"http://e164.arpa\"]\n", 2, "not a domain name");
  expect_invalid_at_line("[enum]\nsuffixes = []\n", 2, "must not be empty");
  expect_invalid_at_line("[enum]\ntimeout_ms = 49\n", 2, "out of range");
  expect_invalid_at_line("[enum]\ntimeout_ms = 10001\n", 2, "out of range");
  expect_invalid_at_line("[enum]\nmax_depth = 17\n", 2, "out of range");
  expect_invalid_at_line("[enum]\nmax_depth = -1\n", 2, "out of range");
  expect_invalid_at_line("[enum]\ncache_entries = -1\n", 2, "out of range");
  expect_invalid_at_line("[enum]\ncache_entries = 1000001\n", 2, "out of range");
  expect_invalid_at_line("[enum]\ntimeout = 100\n", 2, "'timeout'");
}

// --- [routing] --------------------------------------------------------------

TEST(ConfigRouting, CountryDefaultsToLinesCountryAndIsUpperCase) {
  auto jp = parse_config("[lines]\ncountry = \"jp\"\n", "t.toml");
  ASSERT_TRUE(jp) << jp.error().message();
  EXPECT_EQ(jp->routing.country, "JP");

  auto empty = parse_config("[lines]\ncountry = \"DE\"\n[routing]\ncountry = \"\"\n", "t.toml");
  ASSERT_TRUE(empty) << empty.error().message();
  EXPECT_EQ(empty->routing.country, "DE");

  auto own = parse_config("[lines]\ncountry = \"US\"\n[routing]\ncountry = \"fr\"\n", "t.toml");
  ASSERT_TRUE(own) << own.error().message();
  EXPECT_EQ(own->routing.country, "FR");
  EXPECT_EQ(own->lines.country, "US");
}

TEST(ConfigRouting, BadCountryIsAnError) {
  expect_invalid_at_line("[routing]\nsip_callers = \"bridge\"\ncountry = \"XX\"\n", 3, "routing.country");
  expect_invalid_at_line("[routing]\ncountry = \"XX\"\n", 2, "\"XX\"");
  expect_invalid_at_line("[routing]\ncountry = 1\n", 2, "a string");
}

TEST(ConfigRouting, SipCallersBridgeOrRedirect) {
  auto redirect = parse_config("[routing]\nsip_callers = \"redirect\"\n", "t.toml");
  ASSERT_TRUE(redirect) << redirect.error().message();
  EXPECT_EQ(redirect->routing.sip_callers, SipCallerMode::redirect);
  auto bridge = parse_config("[routing]\nsip_callers = \"Bridge\"\n", "t.toml");
  ASSERT_TRUE(bridge) << bridge.error().message();
  EXPECT_EQ(bridge->routing.sip_callers, SipCallerMode::bridge);
  expect_invalid_at_line("[routing]\ncountry = \"US\"\nsip_callers = \"proxy\"\n", 3,
                         "routing.sip_callers: \"proxy\" is not \"bridge\" or \"redirect\"");
  expect_invalid_at_line("[routing]\nmode = \"bridge\"\n", 2, "'mode'");
}

// --- [[trunk]] --------------------------------------------------------------

TEST(ConfigTrunk, ReadsTrunksInOrder) {
  auto c = parse_config(R"([[trunk]]
name = "carrier"
uri = "sip:203.0.113.5:5060;transport=tcp"
[[trunk]]
name = "backup"
uri = "sips:sbc.example"
number_format = "dialed"
)",
                        "t.toml");
  ASSERT_TRUE(c) << c.error().message();
  ASSERT_EQ(c->trunks.size(), 2u);
  EXPECT_EQ(c->trunks[0].name, "carrier");
  EXPECT_EQ(c->trunks[0].uri, "sip:203.0.113.5:5060;transport=tcp");
  EXPECT_EQ(c->trunks[0].number_format, NumberFormat::e164);  // the default
  EXPECT_EQ(c->trunks[1].name, "backup");
  EXPECT_EQ(c->trunks[1].uri, "sips:sbc.example");
  EXPECT_EQ(c->trunks[1].number_format, NumberFormat::dialed);
}

TEST(ConfigTrunk, MissingKeysDuplicatesAndBadUrisAreErrors) {
  expect_invalid_at_line("[[trunk]]\nname = \"a\"\n", 1, "missing key 'uri'");
  expect_invalid_at_line("\n[[trunk]]\nuri = \"sip:h\"\n", 2, "missing key 'name'");
  expect_invalid_at_line("[[trunk]]\nname = \"a\"\nuri = \"sip:h1\"\n[[trunk]]\nname = \"a\"\nuri = \"sip:h2\"\n", 5,
                         "\"a\" is empty or used twice");
  expect_invalid_at_line("[[trunk]]\nname = \"\"\nuri = \"sip:h\"\n", 2, "empty");
  expect_invalid_at_line("[[trunk]]\nname = \"a\"\nuri = \"sip:+12025550150@h\"\n", 3, "without a user part");
  expect_invalid_at_line("[[trunk]]\nname = \"a\"\nuri = \"sip:user@h:5060\"\n", 3, "without a user part");
  expect_invalid_at_line("[[trunk]]\nname = \"a\"\nuri = \"tel:+12025550150\"\n", 3, "trunk.uri");
  expect_invalid_at_line("[[trunk]]\nname = \"a\"\nuri = \"sip:\"\n", 3, "trunk.uri");
  expect_invalid_at_line("[[trunk]]\nname = \"a\"\nuri = \"h.example\"\n", 3, "trunk.uri");
  expect_invalid_at_line("[[trunk]]\nname = \"a\"\nuri = \"sip:h\"\nnumber_format = \"national\"\n", 4,
                         "trunk.number_format: \"national\"");
  expect_invalid_at_line("[[trunk]]\nname = \"a\"\nuri = \"sip:h\"\nproxy = \"x\"\n", 4, "'proxy'");
  expect_invalid_at_line("[trunk]\nname = \"a\"\n", 1, "array of tables");
}

// --- lines.port.did ---------------------------------------------------------

TEST(ConfigDid, ReadsDidsOfEachPort) {
  auto c = parse_config(R"([[lines.port]]
name = "a"
number = "201"
did = ["+12025550201", "+12025550211"]
[[lines.port]]
name = "b"
number = "202"
)",
                        "t.toml");
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->lines.ports[0].did, (std::vector<std::string>{"+12025550201", "+12025550211"}));
  EXPECT_TRUE(c->lines.ports[1].did.empty());
}

TEST(ConfigDid, NotE164AndDuplicatesAreErrors) {
  expect_invalid_at_line("[[lines.port]]\nname = \"a\"\nnumber = \"201\"\ndid = [\"2025550201\"]\n", 4,
                         "lines.port.did: \"2025550201\" is not an E.164 number");
  expect_invalid_at_line("[[lines.port]]\nname = \"a\"\nnumber = \"201\"\ndid = [\"+1-202-555-0201\"]\n", 4,
                         "not an E.164 number");
  expect_invalid_at_line("[[lines.port]]\nname = \"a\"\nnumber = \"201\"\ndid = [\"+0123\"]\n", 4,
                         "not an E.164 number");
  expect_invalid_at_line("[[lines.port]]\nname = \"a\"\nnumber = \"201\"\ndid = [\"+1234567890123456\"]\n", 4,
                         "not an E.164 number");
  expect_invalid_at_line("[[lines.port]]\nname = \"a\"\nnumber = \"201\"\ndid = [\"+12025550201\", \"+12025550201\"]\n",
                         4, "\"+12025550201\" is used twice");
  expect_invalid_at_line(R"([[lines.port]]
name = "a"
number = "201"
did = ["+12025550201"]
[[lines.port]]
name = "b"
number = "202"
did = ["+12025550201"]
)",
                         8, "used twice");
  expect_invalid_at_line("[[lines.port]]\nname = \"a\"\nnumber = \"201\"\ndid = []\n", 4, "must not be empty");
  expect_invalid_at_line("[[lines.port]]\nname = \"a\"\nnumber = \"201\"\ndid = \"+12025550201\"\n", 4, "array");
}

// --- [[dialplan]] steps and allow -------------------------------------------

TEST(ConfigDialPlan, ReadsStepsAndAllow) {
  auto c = parse_config(R"([[dialplan]]
pattern = "1NXXNXXXXXX"
steps = ["enum", "trunk:carrier", "reject 480"]
allow = ["lines", "sip", "127.0.0.0/8"]
[[dialplan]]
pattern = "2XX"
target = "sip:$digits@127.0.0.1"
[[trunk]]
name = "carrier"
uri = "sip:203.0.113.5"
)",
                        "t.toml");
  ASSERT_TRUE(c) << c.error().message();
  ASSERT_EQ(c->dial_plan.rules().size(), 2u);
  EXPECT_EQ(c->dial_plan.rules()[0].steps, (std::vector<std::string>{"enum", "trunk:carrier", "reject 480"}));
  EXPECT_EQ(c->dial_plan.rules()[0].allow, (std::vector<std::string>{"lines", "sip", "127.0.0.0/8"}));
  const auto& steps = c->dial_plan.steps(0);
  ASSERT_EQ(steps.size(), 3u);
  EXPECT_EQ(steps[0].kind, route::StepKind::enum_lookup);
  EXPECT_EQ(steps[1].kind, route::StepKind::trunk);
  EXPECT_EQ(steps[1].arg, "carrier");
  EXPECT_EQ(steps[2].status, 480);
  EXPECT_TRUE(c->dial_plan.admits(0, route::Caller{.line = false, .port = {}, .address = "127.0.0.1", .user = {}, .permissions = {}}));
  EXPECT_TRUE(c->dial_plan.rules()[1].allow.empty());
  EXPECT_FALSE(c->dial_plan.admits(1, route::Caller{.line = false, .port = {}, .address = "127.0.0.1", .user = {}, .permissions = {}}));
}

TEST(ConfigDialPlan, StepNamingAnUnknownTrunkPointsAtItsLine) {
  expect_invalid_at_line(R"([[trunk]]
name = "carrier"
uri = "sip:203.0.113.5"
[[dialplan]]
pattern = "1NXXNXXXXXX"
steps = ["enum", "trunk:carier"]
)",
                         6, "no [[trunk]] named \"carier\"");
  expect_invalid_at_line("[[dialplan]]\npattern = \"X.\"\nsteps = [\"trunk:pstn\"]\n", 3, "\"pstn\"");
}

TEST(ConfigDialPlan, BadStepsPointAtTheStepsLine) {
  expect_invalid_at_line("[[dialplan]]\npattern = \"X.\"\nsteps = [\"enum\", \"foo\"]\n", 3, "\"foo\"");
  expect_invalid_at_line("[[dialplan]]\npattern = \"X.\"\nsteps = [\"reject 700\"]\n", 3, "400-699");
  expect_invalid_at_line("[[dialplan]]\npattern = \"X.\"\nsteps = [\"fxo:\"]\n", 3, "FXO port");
  expect_invalid_at_line("[[dialplan]]\npattern = \"X.\"\nsteps = [\"trunk:\"]\n", 3, "trunk name is missing");
  expect_invalid_at_line("[[dialplan]]\npattern = \"X.\"\nsteps = []\n", 3, "must not be empty");
  expect_invalid_at_line("[[dialplan]]\npattern = \"X.\"\nsteps = [5]\n", 3, "a string");
}

TEST(ConfigDialPlan, BadSipStepPointsAtTheStepsLine) {
  // The step's URI template is wrong: the error is in `steps`, not in the
  // (absent) `target` nor at the table header.
  expect_invalid_at_line("[[dialplan]]\npattern = \"X.\"\nsteps = [\"sip:$number@h\"]\n", 3, "$digits or $e164");
}

TEST(ConfigDialPlan, AllowErrorsPointAtTheAllowLine) {
  expect_invalid_at_line("[[dialplan]]\npattern = \"X.\"\nsteps = [\"enum\"]\nallow = [\"10.0.0.0/33\"]\n", 4,
                         "\"10.0.0.0/33\"");
  expect_invalid_at_line("[[dialplan]]\npattern = \"X.\"\nsteps = [\"enum\"]\nallow = [\"lines\", \"\"]\n", 4,
                         "empty entry");
  expect_invalid_at_line("[[dialplan]]\npattern = \"X.\"\nsteps = [\"enum\"]\nallow = [\"::1/200\"]\n", 4,
                         "CIDR");
  expect_invalid_at_line("[[dialplan]]\npattern = \"X.\"\nsteps = [\"enum\"]\nallow = \"sip\"\n", 4, "array");
  expect_invalid_at_line("[[dialplan]]\npattern = \"X.\"\nsteps = [\"enum\"]\nallow = []\n", 4, "must not be empty");
}

TEST(ConfigAuth, DefaultsTrustLoopbackOfferMd5AndKeepBindingsInMemory) {
  auto c = default_config();
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->auth.realm, "127.0.0.1");
  EXPECT_EQ(c->auth.algorithms, std::vector<std::string>{"MD5"});
  EXPECT_EQ(c->auth.trusted, (std::vector<std::string>{"127.0.0.0/8", "::1"}));
  EXPECT_TRUE(c->registrar.database.empty());
  EXPECT_TRUE(c->users.empty());
  EXPECT_EQ(c->auth.ban_after_failures, 5);
  EXPECT_EQ(c->auth.max_calls_per_user, 4);
  EXPECT_EQ(c->auth.calls_per_minute_per_user, 10);
}

TEST(ConfigAuth, ReadsUsersTrustedRangesAndAlgorithms) {
  auto c = parse_config(R"(
[auth]
realm = "home.example"
algorithms = ["sha-256", "MD5"]
trusted = []
[registrar]
database = "/tmp/x.sqlite"
min_expires_s = 30
[[user]]
name = "alice"
password = "secret"
[[user]]
name = "bob"
ha1_md5 = "0123456789abcdef0123456789abcdef"
)",
                        "test.toml");
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->auth.realm, "home.example");
  EXPECT_EQ(c->auth.algorithms, (std::vector<std::string>{"SHA-256", "MD5"}));
  EXPECT_TRUE(c->auth.trusted.empty());
  EXPECT_EQ(c->registrar.database, "/tmp/x.sqlite");
  EXPECT_EQ(c->registrar.min_expires_s, 30);
  ASSERT_EQ(c->users.size(), 2u);
  EXPECT_EQ(c->users[1].ha1_md5, "0123456789abcdef0123456789abcdef");
}

TEST(ConfigAuth, RefusesBadUsersRangesAndAlgorithms) {
  expect_invalid_at_line("[auth]\ntrusted = [\"10.0.0.0/33\"]\n", 2, "auth.trusted");
  expect_invalid_at_line("[auth]\nalgorithms = [\"SHA-1\"]\n", 2, "auth.algorithms");
  expect_invalid_at_line("[auth]\nalgorithms = [\"MD5\", \"md5\"]\n", 2, "repeated");
  expect_invalid_at_line("[[user]]\nname = \"al ice\"\npassword = \"x\"\n", 1, "not a plain token");
  expect_invalid_at_line("[[user]]\nname = \"alice\"\n", 1, "needs a password");
  expect_invalid_at_line("[[user]]\nname = \"a\"\npassword = \"x\"\n[[user]]\nname = \"a\"\npassword = \"y\"\n", 4,
                         "used twice");
  expect_invalid_at_line("[[user]]\nname = \"a\"\nha1_md5 = \"abc\"\n", 1, "ha1_md5");
  expect_invalid_at_line("[registrar]\nmin_expires_s = 600\nmax_expires_s = 60\n", 1, "min_expires_s");
  expect_error("[auth]\nmax_calls_per_user = -1\n", ConfigError::invalid, 2, 22, "max_calls_per_user");
}


// --- SIP over TLS: [sip] transports "tls", tls_port, [tls] ------------------

// Two readable files for the certificate and key checks (only their
// readability is checked at load).
// Each test gets its own directory: CTest runs these tests in parallel.
struct TlsFiles {
  std::string dir;
  TlsFiles() {
    std::string templ = (std::filesystem::temp_directory_path() / "sipline_config_tls_XXXXXX").string();
    if (::mkdtemp(templ.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir = templ;
    std::ofstream(dir + "/cert.pem") << "-----BEGIN CERTIFICATE-----\n";
    std::ofstream(dir + "/key.pem") << "-----BEGIN PRIVATE KEY-----\n";
  }
  ~TlsFiles() { std::filesystem::remove_all(dir); }
  std::string table(const std::string& more = "") const {
    return "[tls]\ncertificate = \"" + dir + "/cert.pem\"\nprivate_key = \"" + dir + "/key.pem\"\n" + more;
  }
};

TEST(ConfigTls, OffByDefaultWithTheDocumentedDefaults) {
  auto c = parse_config("", "t.toml");
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_FALSE(c->sip.tls);
  EXPECT_EQ(c->sip.tls_port, 5061);
  EXPECT_TRUE(c->tls.certificate.empty());
  EXPECT_TRUE(c->tls.ca_file.empty());
  EXPECT_TRUE(c->tls.verify_peer);
  EXPECT_EQ(c->tls.min_version, "1.2");
  auto d = default_config();
  ASSERT_TRUE(d) << d.error().message();
  EXPECT_FALSE(d->sip.tls);
  EXPECT_EQ(d->sip.tls_port, 5061);
}

TEST(ConfigTls, ReadsTransportsPortAndTable) {
  TlsFiles files;
  auto c = parse_config("[sip]\ntransports = [\"udp\", \"TLS\"]\ntls_port = 5071\n" +
                            files.table("ca_file = \"" + files.dir + "/cert.pem\"\nverify_peer = false\nmin_version = \"1.3\"\n"),
                        "t.toml");
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_TRUE(c->sip.udp);
  EXPECT_FALSE(c->sip.tcp);
  EXPECT_TRUE(c->sip.tls);
  EXPECT_EQ(c->sip.tls_port, 5071);
  EXPECT_EQ(c->tls.certificate, files.dir + "/cert.pem");
  EXPECT_EQ(c->tls.private_key, files.dir + "/key.pem");
  EXPECT_EQ(c->tls.ca_file, files.dir + "/cert.pem");
  EXPECT_FALSE(c->tls.verify_peer);
  EXPECT_EQ(c->tls.min_version, "1.3");
}

TEST(ConfigTls, TlsNeedsReadableCertificateAndKey) {
  TlsFiles files;
  const std::string on = "[sip]\ntransports = [\"tls\"]\n";
  expect_error(on, ConfigError::invalid, 2, 14, "tls.certificate: required when sip.transports has \"tls\"");
  expect_error(on + "[tls]\ncertificate = \"" + files.dir + "/cert.pem\"\n", ConfigError::invalid, 2, 14,
               "tls.private_key: required");
  expect_error(on + "[tls]\ncertificate = \"/nonexistent/cert.pem\"\nprivate_key = \"" + files.dir + "/key.pem\"\n",
               ConfigError::invalid, 4, 15, "tls.certificate: cannot read \"/nonexistent/cert.pem\"");
  expect_error(on + files.table("ca_file = \"/nonexistent/ca.pem\"\n"), ConfigError::invalid, 6, 11,
               "tls.ca_file: cannot read");
  // Without "tls" in transports the files are not needed.
  EXPECT_TRUE(parse_config("[tls]\ncertificate = \"/nonexistent/cert.pem\"\n", "t.toml"));
}

TEST(ConfigTls, BadValuesAreErrorsAtTheirLine) {
  TlsFiles files;
  expect_error("[sip]\ntransports = [\"udp\", \"dtls\"]\n", ConfigError::invalid, 2, 22, "(udp, tcp, tls)");
  expect_error("[sip]\ntls_port = 0\n", ConfigError::invalid, 2, 12, "sip.tls_port");
  expect_error("[sip]\nport = 5070\ntls_port = 5070\ntransports = [\"tls\"]\n" + files.table(), ConfigError::invalid, 3,
               12, "sip.tls_port: must differ from sip.port");
  expect_error("[tls]\nmin_version = \"1.1\"\n", ConfigError::invalid, 2, 15, "tls.min_version");
  expect_error("[tls]\nverify_peer = \"yes\"\n", ConfigError::invalid, 2, 15, "tls.verify_peer: expected a boolean");
  expect_error("[tls]\ncipher = \"x\"\n", ConfigError::invalid, 2, 1, "'cipher' in [tls]");
}

}  // namespace
}  // namespace sipline::gateway::config
