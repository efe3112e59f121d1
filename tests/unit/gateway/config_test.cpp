#include "config/config.hpp"

#include <filesystem>
#include <fstream>

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
  expect_invalid_at_line("[[lines.port]]\nname = \"a\"\nkind = \"fxo\"\nnumber = \"1\"\n", 3, "fxo");
  expect_invalid_at_line("[lines]\nport = []\n", 2, "at least one [[lines.port]]");
  expect_invalid_at_line("[lines]\nport = [1]\n", 2, "an array of tables");
  expect_invalid_at_line("\ndialplan = []\n", 2, "at least one [[dialplan]]");
}

TEST(Config, UnknownCodecIsAnError) {
  expect_error("[media]\ncodecs = [\"PCMU\", \"G729\"]\n", ConfigError::invalid, 2, 19, "unknown codec \"G729\"");
  expect_invalid_at_line("[media]\ncodecs = [\"PCMU\", \"pcmu\"]\n", 2, "twice");
  expect_invalid_at_line("[media]\ncodecs = []\n", 2, "must not be empty");
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

}  // namespace
}  // namespace sipline::gateway::config
