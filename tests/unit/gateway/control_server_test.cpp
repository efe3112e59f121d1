// The control socket's request path without the socket (ctl/control_server.hpp
// answer_requests) and the checked request fields (ctl/request_params.hpp).
#include <gtest/gtest.h>

#include <string>

#include <nlohmann/json.hpp>

#include "ctl/control_server.hpp"
#include "ctl/request_params.hpp"

namespace sipline::gateway::ctl {
namespace {

using nlohmann::json;

json only_answer(const std::string& answers) {
  EXPECT_EQ(answers.find('\n'), answers.size() - 1) << answers;
  return json::parse(answers);
}

TEST(ControlServer, AnswersEachCompleteLineAndKeepsTheRest) {
  int calls = 0;
  const RequestHandler echo = [&calls](const json& request) {
    ++calls;
    return json{{"ok", true}, {"cmd", request.value("cmd", "")}};
  };
  std::string in = "{\"cmd\":\"status\"}\n{\"cmd\":\"lines\"}\n{\"cmd\":\"cal";
  const std::string out = answer_requests(in, echo);
  EXPECT_EQ(out, "{\"cmd\":\"status\",\"ok\":true}\n{\"cmd\":\"lines\",\"ok\":true}\n");
  EXPECT_EQ(in, "{\"cmd\":\"cal");
  EXPECT_EQ(calls, 2);
  in += "ls\"}\n";
  EXPECT_EQ(answer_requests(in, echo), "{\"cmd\":\"calls\",\"ok\":true}\n");
  EXPECT_TRUE(in.empty());
}

TEST(ControlServer, NotAnObjectIsAnErrorAnswer) {
  const RequestHandler never = [](const json&) -> json {
    ADD_FAILURE();
    return {};
  };
  for (const std::string line : {"", "{", "[]", "12", "\"status\"", "{\"cmd\":\"\xc3\x28\"}"}) {
    std::string in = line + "\n";
    const json a = only_answer(answer_requests(in, never));
    EXPECT_EQ(a, (json{{"ok", false}, {"error", "request is not a JSON object"}})) << line;
  }
}

TEST(ControlServer, HandlerExceptionIsABadRequest) {
  const RequestHandler typed = [](const json& request) { return json{{"ok", true}, {"hz", request.value("hz", 0)}}; };
  std::string in = "{\"hz\":\"440\"}\n";
  const json a = only_answer(answer_requests(in, typed));
  EXPECT_FALSE(a["ok"].get<bool>());
  EXPECT_EQ(a["error"].get<std::string>().rfind("bad request: ", 0), 0u) << a.dump();
}

// A REGISTER's User-Agent is whatever bytes the peer sent; `users` returns it.
// dump() used to throw on them, out of the server's noexcept read callback.
TEST(ControlServer, AnswerWithBytesThatAreNotUtf8) {
  const RequestHandler users = [](const json&) {
    return json{{"ok", true}, {"user_agent", std::string("T\xe9l\xe9phone \xff")}};
  };
  std::string in = "{\"cmd\":\"users\"}\n";
  std::string out;
  ASSERT_NO_THROW(out = answer_requests(in, users));
  const json a = only_answer(out);
  EXPECT_EQ(a["user_agent"].get<std::string>(), "T\xef\xbf\xbdl\xef\xbf\xbdphone \xef\xbf\xbd");
}

TEST(RequestParams, IntParam) {
  const json r = json::parse(R"({"a":440,"b":-1,"c":2147483647,"d":-2147483648})");
  EXPECT_EQ(int_param(r, "a", 0), 440);
  EXPECT_EQ(int_param(r, "b", 0), -1);
  EXPECT_EQ(int_param(r, "c", 0), 2147483647);
  EXPECT_EQ(int_param(r, "d", 0), -2147483648);
  EXPECT_EQ(int_param(r, "missing", 7), 7);
}

// value<int>() would cast 1e300 to int: undefined behaviour (found by fuzz_control_command).
TEST(RequestParams, IntParamRejectsWhatIsNoInt) {
  const json r = json::parse(
      R"({"float":-1e308,"half":440.5,"whole_float":440.0,"big":2147483648,"small":-2147483649,
          "huge":18446744073709551615,"text":"440","null":null,"list":[1]})");
  for (const char* key : {"float", "half", "whole_float", "big", "small", "huge", "text", "null", "list"})
    EXPECT_THROW(int_param(r, key, 0), std::invalid_argument) << key;
}

}  // namespace
}  // namespace sipline::gateway::ctl
