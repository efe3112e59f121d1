#pragma once
// tel: URIs (RFC 3966).
//
// Parses global numbers ("tel:+1-201-555-0123") and local numbers, which must
// carry a phone-context (RFC 3966 §5.1.5): a domain ("tel:7042;phone-context=
// example.com") or a global number prefix ("tel:863-1234;phone-context=
// +1-914-555"). Visual separators - . ( ) are removed from the number and from
// a global-number context (RFC 3966 §5.1.1); a domain context is kept as given.
// Every parameter (phone-context, ext, isub, others) is kept in order, names
// lowercased (they compare case-insensitively, §3), values as written.
// Not handled: percent-decoding of values (kept encoded).
//
// Pure functions: any thread.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sipline/base/result.hpp"
#include "sipline/enum/e164.hpp"
#include "sipline/enum/error.hpp"

namespace sipline::e164 {

struct TelParam {
  std::string name;   // lowercased
  std::string value;  // empty when the parameter has no "=value"
  friend bool operator==(const TelParam&, const TelParam&) = default;
};

struct TelUri {
  bool global = false;
  // Global: "+12015550123". Local: "8631234" (hex digits, '*', '#').
  std::string number;
  // Local only: "example.com" or "+1914555"; empty for a global number.
  std::string phone_context;
  std::vector<TelParam> params;

  // The value of a parameter (name case-insensitive), if present.
  std::optional<std::string_view> param(std::string_view name) const;
};

// Errors: not_a_tel_uri, empty, bad_character, malformed,
// missing_phone_context, duplicate_parameter. Messages say what and where.
base::Result<TelUri> parse_tel_uri(std::string_view uri);

// The E.164 number of a global URI, or of a local one whose phone-context is
// a global number prefix (context digits + local digits). Errors: not_global
// (domain context), bad_character (local hex/'*'/'#'), and E164's own.
base::Result<E164> to_e164(const TelUri& uri);

}  // namespace sipline::e164
