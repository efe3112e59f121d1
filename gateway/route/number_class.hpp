#pragma once
// Toll classes of called numbers, the first defence against toll fraud: a
// gateway that can reach the PSTN is attacked to place calls to international
// and premium-rate numbers, which the owner pays for.
//   national       everything else: local, national, short codes, extensions
//   international  a country code other than routing.country's, or a prefix
//                  inside it that bills as international (the Caribbean
//                  area codes of the NANP: +1 876 looks domestic from the US)
//   premium        premium-rate services (+1 900, +44 9, +49 900 ...)
// Prefixes are E.164 ("+1900"), so the dialing format (0, 00, 011, +) does
// not matter; a number that does not normalise to E.164 is national. Every
// caller (a port, a [[user]], the trusted addresses) holds permissions; a call
// to an international or premium number without the matching permission is
// refused (403) before any step runs, whatever the dial plan's allow list says.
// Thread: any; pure functions.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sipline/enum/e164.hpp"

namespace sipline::gateway::route {

enum class NumberClass { national, international, premium };

// What a caller may dial beyond national numbers.
struct Permissions {
  bool international = false;
  bool premium = false;
  bool operator==(const Permissions&) const = default;
};

struct TollPrefixes {
  std::vector<std::string> international;  // "+1876": inside our country code, billed as international
  std::vector<std::string> premium;        // "+1900"
};

// The built-in lists for a numbering plan's region (US, UK, DE, FR, JP);
// empty lists for others.
TollPrefixes default_toll_prefixes(std::string_view region);

// Premium first (a premium number abroad is premium), then international.
NumberClass classify(const std::optional<e164::E164>& number, const e164::NumberingPlan& plan,
                     const TollPrefixes& prefixes);

std::string_view number_class_name(NumberClass c);
bool permits(const Permissions& p, NumberClass c);
// "international" / "premium" -> the flag; false for other words.
bool add_permission(Permissions& p, std::string_view word);

}  // namespace sipline::gateway::route
