#include "sipline/enum/e164.hpp"

#include <algorithm>
#include <cctype>

namespace sipline::e164 {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_visual_separator(char c) { return c == ' ' || c == '-' || c == '.' || c == '(' || c == ')'; }

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

base::Result<E164> E164::from_digits(std::string_view digits) {
  if (digits.empty()) return base::fail(EnumError::empty, "E.164 number has no digits");
  for (char c : digits) {
    if (!is_digit(c)) {
      return base::fail(EnumError::bad_character, "E.164 number has a non-digit '" + std::string(1, c) + "'");
    }
  }
  if (digits.size() > kMaxDigits) {
    return base::fail(EnumError::too_long,
                      "E.164 number has " + std::to_string(digits.size()) + " digits, at most 15 allowed");
  }
  if (digits.front() == '0') return base::fail(EnumError::bad_country_code, "E.164 country code cannot start with 0");
  return E164(std::string(digits));
}

base::Result<E164> E164::parse(std::string_view plus_digits) {
  if (plus_digits.empty()) return base::fail(EnumError::empty, "empty E.164 number");
  if (plus_digits.front() != '+') return base::fail(EnumError::malformed, "E.164 number must start with '+'");
  return from_digits(plus_digits.substr(1));
}

std::optional<NumberingPlan> builtin_plan(std::string_view region) {
  if (iequals(region, "US") || iequals(region, "CA") || iequals(region, "NANP")) {
    return NumberingPlan{"1", "1", "011"};
  }
  if (iequals(region, "JP")) return NumberingPlan{"81", "0", "010"};
  if (iequals(region, "DE")) return NumberingPlan{"49", "0", "00"};
  if (iequals(region, "UK") || iequals(region, "GB")) return NumberingPlan{"44", "0", "00"};
  if (iequals(region, "FR")) return NumberingPlan{"33", "0", "00"};
  return std::nullopt;
}

base::Result<E164> normalise(std::string_view dialed, const NumberingPlan& plan) {
  std::string digits;
  bool plus = false;
  for (std::size_t i = 0; i < dialed.size(); ++i) {
    const char c = dialed[i];
    if (is_visual_separator(c)) continue;
    if (c == '+' && digits.empty() && !plus) {
      plus = true;
      continue;
    }
    if (!is_digit(c)) {
      return base::fail(EnumError::bad_character,
                        "dialed number has '" + std::string(1, c) + "' at position " + std::to_string(i + 1));
    }
    if (digits.size() > 2 * kMaxDigits + 8) {
      return base::fail(EnumError::too_long, "dialed number is far too long");
    }
    digits.push_back(c);
  }
  if (digits.empty()) return base::fail(EnumError::empty, "dialed number has no digits");

  std::string international;
  const auto& ip = plan.international_prefix;
  const auto& np = plan.national_prefix;
  if (plus) {
    international = digits;
  } else if (!ip.empty() && digits.size() > ip.size() && digits.compare(0, ip.size(), ip) == 0) {
    international = digits.substr(ip.size());
  } else if (!np.empty() && digits.size() > np.size() && digits.compare(0, np.size(), np) == 0) {
    international = plan.country_code + digits.substr(np.size());
  } else {
    international = plan.country_code + digits;
  }
  if (international.size() > kMaxDigits) {
    return base::fail(EnumError::too_long,
                      "number has " + std::to_string(international.size()) + " digits, E.164 allows 15");
  }
  if (international.size() < kMinNormalisedDigits) {
    return base::fail(EnumError::too_short, "number +" + international + " is too short for E.164");
  }
  return E164::from_digits(international);
}

std::string to_enum_domain(const E164& number, std::string_view suffix) {
  while (!suffix.empty() && suffix.front() == '.') suffix.remove_prefix(1);
  while (!suffix.empty() && suffix.back() == '.') suffix.remove_suffix(1);
  const std::string& d = number.digits();
  std::string out;
  out.reserve(d.size() * 2 + suffix.size());
  for (auto it = d.rbegin(); it != d.rend(); ++it) {
    if (!out.empty()) out.push_back('.');
    out.push_back(*it);
  }
  if (!suffix.empty()) {
    out.push_back('.');
    out.append(suffix);
  }
  return out;
}

}  // namespace sipline::e164
