#pragma once
// E.164 numbers (ITU-T E.164) and their ENUM domain (RFC 6116 §2.4).
//
// E164 holds the digits of an international number without the '+': 1 to 15
// decimal digits, the first (the country code's) not 0. normalise() turns what
// people dial into an E164 with a NumberingPlan: the visual separators
// ( ) - . and space are removed; a leading '+' or the international prefix
// starts an international number; the national prefix (trunk prefix) or no
// prefix at all starts a national number, to which the plan's country code
// is prepended. Normalisation does not know national number lengths: it only
// refuses numbers shorter than kMinNormalisedDigits in total.
//
// Pure functions, no state: any thread.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "sipline/base/result.hpp"
#include "sipline/enum/error.hpp"

namespace sipline::e164 {

inline constexpr std::size_t kMaxDigits = 15;           // ITU-T E.164 §6
inline constexpr std::size_t kMinNormalisedDigits = 7;  // e.g. Niue +683 4002

class E164 {
 public:
  // digits: 1-15 decimal digits, no '+', first digit 1-9.
  static base::Result<E164> from_digits(std::string_view digits);
  // "+<digits>" exactly, no separators.
  static base::Result<E164> parse(std::string_view plus_digits);

  const std::string& digits() const { return digits_; }
  // "+81312345678": the application unique string of ENUM (RFC 6116 §3.2).
  std::string str() const { return "+" + digits_; }

  friend bool operator==(const E164&, const E164&) = default;

 private:
  explicit E164(std::string digits) : digits_(std::move(digits)) {}
  std::string digits_;
};

// How a country dials. country_code "81"; national_prefix (trunk prefix) "0",
// may be empty; international_prefix "010", may be empty.
struct NumberingPlan {
  std::string country_code;
  std::string national_prefix;
  std::string international_prefix;
};

// Built-in plans: "US"/"CA"/"NANP" (1, "1", "011"), "JP" (81, "0", "010"),
// "DE" (49, "0", "00"), "UK"/"GB" (44, "0", "00"), "FR" (33, "0", "00").
// Region names are case-insensitive; nullopt for others.
std::optional<NumberingPlan> builtin_plan(std::string_view region);

// "+81 3-1234-5678" -> +81312345678; "0312345678" (JP) -> +81312345678;
// "010 1 212 555 0100" (JP) -> +12125550100. Errors: empty, bad_character
// (letters, '*', '#', a '+' not in front), too_long, too_short,
// bad_country_code.
base::Result<E164> normalise(std::string_view dialed, const NumberingPlan& plan);

// RFC 6116 §2.4: the digits reversed, dot-separated, then the suffix:
// +81312345678 with "e164.arpa" -> "8.7.6.5.4.3.2.1.3.1.8.e164.arpa".
// Leading and trailing dots of the suffix are ignored; an empty suffix gives
// the reversed digits alone.
std::string to_enum_domain(const E164& number, std::string_view suffix = "e164.arpa");

}  // namespace sipline::e164
