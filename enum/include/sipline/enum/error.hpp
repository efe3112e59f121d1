#pragma once
// Error codes of the enum library (namespace sipline::e164; `enum` is a
// keyword). Carried in base::Error with a human message.
namespace sipline::e164 {

enum class EnumError {
  empty = 1,            // nothing to parse
  bad_character,        // a letter or other character not allowed here
  too_long,             // more than 15 digits (ITU-T E.164 §6)
  too_short,            // fewer digits than any real number has
  bad_country_code,     // leading 0 where a country code must start
  not_a_tel_uri,        // scheme is not "tel:"
  malformed,            // syntax error (tel: URI, regexp field, ...)
  missing_phone_context,  // RFC 3966 §5.1.5: a local number needs one
  duplicate_parameter,  // RFC 3966 §3: a parameter name appears once
  not_global,           // local number whose context is a domain, not +digits
  truncated,            // NAPTR RDATA ends inside a field
  bad_name,             // bad label type, label or name too long, bad pointer
  trailing_data,        // bytes after the replacement field
  unknown_service,      // not one of the ENUM services we handle (ignored)
  bad_flags,            // NAPTR flags other than "u" or empty
  bad_regexp,           // regexp field that does not parse or compile
  no_match,             // the ERE does not match the AUS
  bad_uri,              // the rewrite gives no usable URI for the service
  invalid_record,       // RFC 3403 §4.1: both regexp and replacement, or neither
  bad_message,          // DNS message header/sections do not parse, or it is not a response
  question_mismatch,    // the response answers another question (id is c-ares' job)
  cname_loop,           // CNAME chain loops or is longer than kMaxCnameChain
  timeout,              // the DNS server did not answer in time
  server_failure,       // SERVFAIL, REFUSED or another error RCODE
  not_found,            // NXDOMAIN, or no NAPTR records (NODATA), at every suffix
  too_deep,             // non-terminal rules nested deeper than the configured limit
  resolver,             // c-ares could not be set up or the query could not be sent
};

}  // namespace sipline::e164
