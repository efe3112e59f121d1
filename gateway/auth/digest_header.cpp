// Authorization / Proxy-Authorization header values: parse and format.
// Grammar (RFC 3261 §25.1, RFC 7235 §2.1, lenient about quoting):
//   credentials = "Digest" LWS param *( "," param ), empty list elements skipped
//   param       = token LWS "=" LWS ( token / quoted-string )
//   quoted-string allows "\" escapes; no control characters except HTAB,
//   escaped or not.
#include <array>
#include <cstddef>
#include <string>
#include <string_view>

#include "auth/digest.hpp"
#include "auth/quoted_string.hpp"

namespace sipline::gateway::auth {
namespace {

using detail::append_quoted;

constexpr std::size_t kMaxHeader = 4096;
constexpr std::size_t kMaxValue = 1024;
constexpr std::size_t kMaxParams = 32;

bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// RFC 3261 token characters.
bool is_token_char(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '-': case '.': case '!': case '%': case '*': case '_': case '+': case '`': case '\'': case '~':
      return true;
    default:
      return false;
  }
}

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

base::Error malformed(std::string message) { return base::Error(DigestError::malformed, std::move(message)); }

class Cursor {
 public:
  explicit Cursor(std::string_view text) : text_(text) {}
  bool done() const { return pos_ >= text_.size(); }
  char peek() const { return text_[pos_]; }
  void skip_ws() {
    while (!done() && is_ws(peek())) ++pos_;
  }
  std::string_view token() {
    const std::size_t start = pos_;
    while (!done() && is_token_char(peek())) ++pos_;
    return text_.substr(start, pos_ - start);
  }
  bool eat(char c) {
    if (done() || peek() != c) return false;
    ++pos_;
    return true;
  }
  // After the opening quote: reads up to the closing quote, unescaping.
  base::Result<std::string> quoted_rest() {
    std::string value;
    while (true) {
      if (done()) return base::fail(malformed("unterminated quoted string"));
      char c = text_[pos_++];
      if (c == '"') return value;
      if (c == '\\') {
        if (done()) return base::fail(malformed("unterminated quoted string"));
        c = text_[pos_++];
      }
      if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f) {
        return base::fail(malformed("control character in quoted string"));
      }
      if (value.size() >= kMaxValue) return base::fail(malformed("parameter value too long"));
      value.push_back(c);
    }
  }

 private:
  std::string_view text_;
  std::size_t pos_ = 0;
};

// Index into DigestCredentials' fields by lowercase name; nullptr when unknown.
std::optional<std::string>* field(DigestCredentials& c, std::string_view name) {
  struct Entry {
    std::string_view name;
    std::optional<std::string> DigestCredentials::*member;
  };
  static constexpr std::array<Entry, 11> kFields = {{
      {"username", &DigestCredentials::username},
      {"realm", &DigestCredentials::realm},
      {"nonce", &DigestCredentials::nonce},
      {"uri", &DigestCredentials::uri},
      {"response", &DigestCredentials::response},
      {"algorithm", &DigestCredentials::algorithm},
      {"cnonce", &DigestCredentials::cnonce},
      {"opaque", &DigestCredentials::opaque},
      {"qop", &DigestCredentials::qop},
      {"nc", &DigestCredentials::nc},
      {"userhash", &DigestCredentials::userhash},
  }};
  for (const auto& e : kFields) {
    if (iequals(e.name, name)) return &(c.*e.member);
  }
  return nullptr;
}


}  // namespace

base::Result<DigestCredentials> parse_authorization(std::string_view header_value) {
  if (header_value.size() > kMaxHeader) return base::fail(malformed("header value too long"));
  Cursor cur(header_value);
  cur.skip_ws();
  if (!iequals(cur.token(), "Digest")) return base::fail(malformed("scheme is not Digest"));
  if (cur.done() || !is_ws(cur.peek())) return base::fail(malformed("no parameters after Digest"));

  DigestCredentials creds;
  std::size_t params = 0;
  bool expect_separator = false;
  while (true) {
    cur.skip_ws();
    if (cur.done()) break;
    if (cur.eat(',')) {
      expect_separator = false;
      continue;
    }
    if (expect_separator) return base::fail(malformed("expected ',' between parameters"));
    const std::string_view name = cur.token();
    if (name.empty()) return base::fail(malformed("expected a parameter name"));
    if (++params > kMaxParams) return base::fail(malformed("too many parameters"));
    cur.skip_ws();
    if (!cur.eat('=')) return base::fail(malformed("parameter '" + std::string(name.substr(0, 64)) + "' has no value"));
    cur.skip_ws();
    std::string value;
    if (cur.eat('"')) {
      auto quoted = cur.quoted_rest();
      if (!quoted) return base::fail(quoted.error());
      value = std::move(*quoted);
    } else {
      const std::string_view token = cur.token();
      if (token.empty()) return base::fail(malformed("parameter '" + std::string(name.substr(0, 64)) + "' has an empty value"));
      if (token.size() > kMaxValue) return base::fail(malformed("parameter value too long"));
      value = std::string(token);
    }
    if (auto* slot = field(creds, name)) {
      if (slot->has_value()) return base::fail(malformed("duplicated parameter '" + std::string(name) + "'"));
      *slot = std::move(value);
    }
    expect_separator = true;
  }
  if (params == 0) return base::fail(malformed("no parameters after Digest"));
  return creds;
}

std::string format_authorization(const DigestCredentials& c) {
  std::string out = "Digest";
  bool first = true;
  auto add = [&](std::string_view name, const std::optional<std::string>& value, bool quoted) {
    if (!value) return;
    out += first ? " " : ", ";
    first = false;
    out += name;
    out.push_back('=');
    bool token = !value->empty();
    for (char ch : *value) token = token && is_token_char(ch);
    if (quoted || !token) {
      append_quoted(out, *value);
    } else {
      out += *value;
    }
  };
  add("username", c.username, true);
  add("realm", c.realm, true);
  add("nonce", c.nonce, true);
  add("uri", c.uri, true);
  add("response", c.response, true);
  add("algorithm", c.algorithm, false);
  add("cnonce", c.cnonce, true);
  add("opaque", c.opaque, true);
  add("qop", c.qop, false);
  add("nc", c.nc, false);
  add("userhash", c.userhash, false);
  return out;
}

}  // namespace sipline::gateway::auth
