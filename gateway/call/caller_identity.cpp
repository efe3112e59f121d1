#include "call/caller_identity.hpp"

#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>

#include "route/router.hpp"

namespace sipline::gateway::call {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// Sofia keeps a quoted display name with its quotes and escapes.
std::string unquote(std::string_view display) {
  while (!display.empty() && display.front() == ' ') display.remove_prefix(1);
  while (!display.empty() && display.back() == ' ') display.remove_suffix(1);
  if (display.size() < 2 || display.front() != '"' || display.back() != '"') return std::string(display);
  std::string out;
  for (std::size_t i = 1; i + 1 < display.size(); ++i) {
    if (display[i] == '\\' && i + 2 < display.size()) ++i;
    out.push_back(display[i]);
  }
  return out;
}

// Caller ID carries printable ASCII; anything else becomes a space.
std::string printable(std::string_view text) {
  std::string out;
  for (char c : text) out.push_back(c >= 0x20 && c < 0x7f ? c : ' ');
  return out;
}

bool withheld(const sip::InviteInfo& invite, std::string_view uri, std::string_view display) {
  for (const auto& v : invite.privacy) {
    if (iequals(v, "id") || iequals(v, "user") || iequals(v, "header")) return true;
  }
  // RFC 3325 §9.1 / RFC 3323 §4.1.1.3: an anonymous From.
  if (iequals(unquote(display), "anonymous")) return true;
  const std::string lower = [&] {
    std::string s(uri);
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
  }();
  return lower.find("anonymous@") != std::string::npos || lower.find("@anonymous.invalid") != std::string::npos;
}

// The telephone number in a URI ("+12025550150" or "201"), or "" when its
// user is not a number (a SIP user name).
std::string number_of(std::string_view uri) {
  auto called = route::called_from_request_uri(uri);
  if (!called) return {};
  std::string_view n = called->dialed;
  const std::string_view digits = !n.empty() && n.front() == '+' ? n.substr(1) : n;
  if (digits.empty() || !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return {};
  }
  return std::string(n);
}

// The user part of a URI, for a caller whose user is a name rather than a number.
std::string user_of(std::string_view uri) {
  const auto colon = uri.find(':');
  const auto at = uri.find('@');
  if (colon == std::string_view::npos || at == std::string_view::npos || at < colon) return {};
  return std::string(uri.substr(colon + 1, at - colon - 1));
}

}  // namespace

dsp::CallerId caller_id_from_invite(const sip::InviteInfo& invite, bool trusted_peer, const std::tm& now) {
  const bool asserted = trusted_peer && !invite.asserted_uri.empty();
  const std::string& uri = asserted ? invite.asserted_uri : invite.from_uri;
  const std::string& display = asserted && !invite.asserted_display.empty() ? invite.asserted_display
                                                                              : invite.from_display;
  dsp::CallerId id;
  id.month = now.tm_mon + 1;
  id.day = now.tm_mday;
  id.hour = now.tm_hour;
  id.minute = now.tm_min;
  if (withheld(invite, uri, display)) {
    id.number_absence = dsp::Absence::withheld;
    id.name_absence = dsp::Absence::withheld;
    return id;
  }
  id.number = number_of(uri);
  if (id.number.empty()) id.number_absence = dsp::Absence::unavailable;
  id.name = printable(unquote(display));
  if (id.name.empty() && id.number.empty()) id.name = printable(user_of(uri));
  if (id.name.empty()) id.name_absence = dsp::Absence::unavailable;
  return id;
}

}  // namespace sipline::gateway::call
