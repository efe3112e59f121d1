#pragma once
// RFC 7230 quoted-string for digest header values: the value in double
// quotes, with '"' and '\\' escaped by a backslash. Internal to gateway/auth.
#include <string>
#include <string_view>

namespace sipline::gateway::auth::detail {

inline void append_quoted(std::string& out, std::string_view value) {
  out.push_back('"');
  for (char c : value) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
}

}  // namespace sipline::gateway::auth::detail
