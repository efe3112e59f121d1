#include "sipline/enum/tel_uri.hpp"

#include <cctype>

namespace sipline::e164 {

namespace {

constexpr std::size_t kMaxUriLength = 2048;

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }
bool is_hex(char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }
bool is_visual_separator(char c) { return c == '-' || c == '.' || c == '(' || c == ')'; }
char lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = lower(c);
  return out;
}

// RFC 3966 paramchar = param-unreserved / unreserved / pct-encoded
bool is_paramchar(char c) {
  static constexpr std::string_view kOther = "[]/:&+$-_.!~*'()%";
  return is_alnum(c) || kOther.find(c) != std::string_view::npos;
}

base::Error where(EnumError code, std::string what, std::size_t pos) {
  return base::Error(code, "tel: URI: " + std::move(what) + " at position " + std::to_string(pos + 1));
}

// "+" *phonedigit DIGIT *phonedigit -> "+digits"
base::Result<std::string> global_digits(std::string_view s, std::size_t base_pos) {
  std::string out = "+";
  for (std::size_t i = 1; i < s.size(); ++i) {
    if (is_visual_separator(s[i])) continue;
    if (!is_digit(s[i])) {
      return tl::unexpected(
          where(EnumError::bad_character, "'" + std::string(1, s[i]) + "' in a global number", base_pos + i));
    }
    out.push_back(s[i]);
  }
  if (out.size() == 1) return tl::unexpected(where(EnumError::empty, "global number without digits", base_pos));
  return out;
}

// domainname = *( domainlabel "." ) toplabel [ "." ]
bool is_domain(std::string_view s) {
  if (s.empty()) return false;
  if (s.back() == '.') s.remove_suffix(1);
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = s.find('.', start);
    const std::string_view label = s.substr(start, dot == std::string_view::npos ? s.size() - start : dot - start);
    if (label.empty() || !is_alnum(label.front()) || !is_alnum(label.back())) return false;
    for (char c : label) {
      if (!is_alnum(c) && c != '-') return false;
    }
    if (dot == std::string_view::npos) return std::isalpha(static_cast<unsigned char>(label.front())) != 0;
    start = dot + 1;
  }
}

}  // namespace

std::optional<std::string_view> TelUri::param(std::string_view name) const {
  const std::string key = lowercase(name);
  for (const auto& p : params) {
    if (p.name == key) return std::string_view(p.value);
  }
  return std::nullopt;
}

base::Result<TelUri> parse_tel_uri(std::string_view uri) {
  if (uri.empty()) return base::fail(EnumError::empty, "tel: URI is empty");
  if (uri.size() > kMaxUriLength) return base::fail(EnumError::malformed, "tel: URI is too long");
  if (uri.size() < 4 || lowercase(uri.substr(0, 4)) != "tel:") {
    return base::fail(EnumError::not_a_tel_uri, "not a tel: URI (scheme must be \"tel:\")");
  }
  constexpr std::size_t kStart = 4;
  const std::string_view rest = uri.substr(kStart);
  const std::size_t semi = rest.find(';');
  const std::string_view number = rest.substr(0, semi);
  if (number.empty()) return tl::unexpected(where(EnumError::empty, "no number", kStart));

  TelUri out;
  if (number.front() == '+') {
    out.global = true;
    auto digits = global_digits(number, kStart);
    if (!digits) return tl::unexpected(digits.error());
    out.number = std::move(*digits);
  } else {
    for (std::size_t i = 0; i < number.size(); ++i) {
      const char c = number[i];
      if (is_visual_separator(c)) continue;
      if (!is_hex(c) && c != '*' && c != '#') {
        return tl::unexpected(
            where(EnumError::bad_character, "'" + std::string(1, c) + "' in a local number", kStart + i));
      }
      out.number.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
    }
    if (out.number.empty()) return tl::unexpected(where(EnumError::empty, "local number without digits", kStart));
  }

  std::size_t pos = semi;
  while (pos != std::string_view::npos) {
    const std::size_t begin = pos + 1;
    const std::size_t next = rest.find(';', begin);
    const std::string_view par = rest.substr(begin, next == std::string_view::npos ? rest.size() - begin : next - begin);
    const std::size_t eq = par.find('=');
    const std::string_view name = par.substr(0, eq);
    if (name.empty()) return tl::unexpected(where(EnumError::malformed, "empty parameter name", kStart + begin));
    for (std::size_t i = 0; i < name.size(); ++i) {
      if (!is_alnum(name[i]) && name[i] != '-') {
        return tl::unexpected(where(EnumError::bad_character,
                                    "'" + std::string(1, name[i]) + "' in a parameter name", kStart + begin + i));
      }
    }
    TelParam p{lowercase(name), {}};
    if (eq != std::string_view::npos) {
      const std::string_view value = par.substr(eq + 1);
      if (value.empty()) {
        return tl::unexpected(where(EnumError::malformed, "parameter '" + p.name + "' has an empty value",
                                    kStart + begin + eq));
      }
      for (std::size_t i = 0; i < value.size(); ++i) {
        if (!is_paramchar(value[i])) {
          return tl::unexpected(where(EnumError::bad_character,
                                      "'" + std::string(1, value[i]) + "' in parameter '" + p.name + "'",
                                      kStart + begin + eq + 1 + i));
        }
      }
      p.value = std::string(value);
    }
    if (out.param(p.name)) {
      return tl::unexpected(
          where(EnumError::duplicate_parameter, "parameter '" + p.name + "' appears twice", kStart + begin));
    }
    if (p.name == "phone-context") {
      if (out.global) {
        return tl::unexpected(
            where(EnumError::malformed, "phone-context on a global number", kStart + begin));
      }
      if (!p.value.empty() && p.value.front() == '+') {
        auto ctx = global_digits(p.value, kStart + begin + eq + 1);
        if (!ctx) return tl::unexpected(ctx.error());
        out.phone_context = std::move(*ctx);
      } else if (is_domain(p.value)) {
        out.phone_context = p.value;
      } else {
        return tl::unexpected(where(EnumError::malformed,
                                    "phone-context '" + p.value + "' is neither a domain nor a +number",
                                    kStart + begin + eq + 1));
      }
    } else if (p.name == "ext") {
      for (char c : p.value) {
        if (!is_digit(c) && !is_visual_separator(c)) {
          return tl::unexpected(where(EnumError::bad_character, "ext must be digits", kStart + begin));
        }
      }
      if (p.value.empty()) return tl::unexpected(where(EnumError::malformed, "ext without a value", kStart + begin));
    } else if (p.name == "isub" && p.value.empty()) {
      return tl::unexpected(where(EnumError::malformed, "isub without a value", kStart + begin));
    }
    out.params.push_back(std::move(p));
    pos = next;
  }
  if (!out.global && out.phone_context.empty()) {
    return base::fail(EnumError::missing_phone_context,
                      "tel: URI: local number '" + out.number + "' needs a phone-context (RFC 3966 §5.1.5)");
  }
  return out;
}

base::Result<E164> to_e164(const TelUri& uri) {
  if (uri.global) return E164::parse(uri.number);
  if (uri.phone_context.empty() || uri.phone_context.front() != '+') {
    return base::fail(EnumError::not_global,
                      "local number in context '" + uri.phone_context + "' has no E.164 form");
  }
  for (char c : uri.number) {
    if (!is_digit(c)) {
      return base::fail(EnumError::bad_character, "local number '" + uri.number + "' is not all decimal digits");
    }
  }
  return E164::parse(uri.phone_context + uri.number);
}

}  // namespace sipline::e164
