#include "sipline/enum/naptr_rules.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <memory>
#include <numeric>
#include <string_view>
#include <vector>

#include "regex.hpp"

namespace sipline::e164 {

namespace {

constexpr std::size_t kMaxGroups = 10;  // \0 (whole match) and \1..\9

char lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = lower(c);
  return out;
}

// Where a bracket expression that opens at ere[open] ('[') closes: the index
// of its ']', or ere.size() when it does not.
std::size_t bracket_end(std::string_view ere, std::size_t open) {
  std::size_t j = open + 1;
  if (j < ere.size() && ere[j] == '^') ++j;
  if (j < ere.size() && ere[j] == ']') ++j;  // a leading ']' is a member
  while (j < ere.size() && ere[j] != ']') {
    if (ere[j] == '[' && j + 1 < ere.size() && (ere[j + 1] == ':' || ere[j + 1] == '.' || ere[j + 1] == '=')) {
      const char close[] = {ere[j + 1], ']'};
      const std::size_t end = ere.find(std::string_view(close, 2), j + 2);
      if (end == std::string_view::npos) return ere.size();
      j = end + 2;
    } else {
      ++j;
    }
  }
  return j;
}

// The cost of compiling an ERE with glibc's regcomp, as an upper estimate of
// the nodes it builds; kCap for what we refuse whatever its size. regcomp
// copies the operand of a repetition once per mandatory or bounded repeat
// ("x+" is "x x*", "x{2,4}" is "x x x? x?"), so nested repetitions multiply
// ("((a{32}){32}){32}" is 32^3 copies), and its epsilon closures take
// exponential time on repeated operands that match the empty string
// ("()+++"; fuzz_naptr). Refused outright: a repetition right after another
// ("a++", undefined in POSIX anyway) and a repetition of an operand that can
// match the empty string ("(a*)+", "()+", "(^)*"). Saturates at kCap.
constexpr std::size_t kCap = std::size_t{1} << 40;

std::size_t regcomp_cost(std::string_view ere) {
  const auto add = [](std::size_t a, std::size_t b) { return std::min(a + b, kCap); };
  const auto mul = [](std::size_t a, std::size_t b) { return a > kCap / b ? kCap : a * b; };  // b >= 1
  struct Group {
    std::size_t total = 0;        // the group's items before `last`
    std::size_t last = 0;         // the item a repetition would apply to (0: none yet)
    bool last_nullable = false;   // `last` can match the empty string
    bool alt_nullable = true;     // the current alternative so far can
    bool group_nullable = false;  // some earlier alternative can
  };
  std::vector<Group> groups(1);
  bool after_repetition = false;
  for (std::size_t i = 0; i < ere.size(); ++i) {
    const char c = ere[i];
    std::size_t factor = 0;  // 0: c is no repetition
    bool may_skip = false;   // the repetition allows zero repeats
    if (c == '*' || c == '?') {
      factor = 1;
      may_skip = true;
    } else if (c == '+') {
      factor = 2;
    } else if (c == '{') {
      std::size_t low = 0, high = 0;
      bool comma = false, digits = false;
      std::size_t j = i + 1;
      for (; j < ere.size(); ++j) {
        const char d = ere[j];
        if (d == ',' && !comma) {
          comma = true;
        } else if (d >= '0' && d <= '9') {
          std::size_t& v = comma ? high : low;
          v = std::min<std::size_t>(v * 10 + static_cast<std::size_t>(d - '0'), 100000);
          digits = true;
        } else {
          break;
        }
      }
      if (digits && j < ere.size() && ere[j] == '}') {
        factor = std::max(low, high) + 1;
        may_skip = low == 0;
        i = j;
      }
    }
    Group& g = groups.back();
    if (factor != 0) {
      if (after_repetition || (g.last != 0 && g.last_nullable)) return kCap;
      g.last = mul(std::max<std::size_t>(g.last, 1), factor);
      g.last_nullable = g.last_nullable || may_skip;
      after_repetition = true;
      continue;
    }
    after_repetition = false;
    g.total = add(g.total, g.last);
    if (g.last != 0) g.alt_nullable = g.alt_nullable && g.last_nullable;
    g.last = 1;
    g.last_nullable = false;
    if (c == '\\') {
      ++i;  // an escaped character: one item
    } else if (c == '[') {
      i = bracket_end(ere, i);
    } else if (c == '^' || c == '$') {
      g.last_nullable = true;  // anchors match no character
    } else if (c == '|') {
      g.group_nullable = g.group_nullable || g.alt_nullable;
      g.alt_nullable = true;
      g.last = 0;
    } else if (c == '(') {
      g.last = 0;
      groups.emplace_back();
    } else if (c == ')' && groups.size() > 1) {
      const std::size_t inner = add(g.total, 1);
      const bool nullable = g.group_nullable || g.alt_nullable;
      groups.pop_back();
      groups.back().last = inner;
      groups.back().last_nullable = nullable;
    }
  }
  std::size_t nodes = 0;
  for (const Group& g : groups) nodes = add(nodes, add(g.total, g.last));
  return nodes;
}

struct ParsedRegexp {
  std::string ere;
  std::string replacement;  // still with its \N and \\ escapes
  bool icase = false;
};

// RFC 3402 §3.2: delim-char ere delim-char repl delim-char *flags
base::Result<ParsedRegexp> split_regexp(std::string_view field) {
  if (field.empty()) return base::fail(EnumError::bad_regexp, "NAPTR regexp is empty");
  if (field.size() > kMaxRegexpLength) return base::fail(EnumError::bad_regexp, "NAPTR regexp is too long");
  for (char c : field) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      return base::fail(EnumError::bad_regexp, "NAPTR regexp has a control character");
    }
  }
  const char delim = field.front();
  if ((delim >= '0' && delim <= '9') || delim == '\\' || delim == 'i') {
    return base::fail(EnumError::bad_regexp,
                      std::string("NAPTR regexp delimiter '") + delim + "' is a digit, a flag or a backslash");
  }
  ParsedRegexp out;
  std::string* part = &out.ere;
  int delims = 1;
  std::size_t i = 1;
  for (; i < field.size() && delims < 3; ++i) {
    const char c = field[i];
    if (c == '\\' && i + 1 < field.size()) {
      const char n = field[i + 1];
      if (n == delim) {
        // "\<delim>" stands for the delimiter; in the ERE, escape it unless it
        // is an ordinary character there.
        if (part == &out.ere && !std::isalnum(static_cast<unsigned char>(n))) part->push_back('\\');
        part->push_back(n);
      } else {
        part->push_back('\\');
        part->push_back(n);
      }
      ++i;
      continue;
    }
    if (c == delim) {
      ++delims;
      part = &out.replacement;
      continue;
    }
    part->push_back(c);
  }
  if (delims < 3) return base::fail(EnumError::bad_regexp, "NAPTR regexp needs three delimiters");
  const std::string_view flags = field.substr(i);
  if (flags == "i") {
    out.icase = true;
  } else if (!flags.empty()) {
    return base::fail(EnumError::bad_regexp, "NAPTR regexp flags '" + std::string(flags) + "' (only 'i' allowed)");
  }
  // Refuse what makes glibc's matcher slow: back references in the ERE and
  // large {m,n} bounds.
  for (std::size_t k = 0; k < out.ere.size(); ++k) {
    if (out.ere[k] == '\\' && k + 1 < out.ere.size()) {
      if (out.ere[k + 1] >= '1' && out.ere[k + 1] <= '9') {
        return base::fail(EnumError::bad_regexp, "NAPTR regexp has a back reference in its ERE");
      }
      ++k;
      continue;
    }
    if (out.ere[k] == '{') {
      int value = 0;
      for (std::size_t m = k + 1; m < out.ere.size() && out.ere[m] != '}'; ++m) {
        const char c = out.ere[m];
        if (c >= '0' && c <= '9') {
          value = std::min(value * 10 + (c - '0'), 100000);
          if (value > kMaxRegexBound) {
            return base::fail(EnumError::bad_regexp, "NAPTR regexp has a repetition bound above " +
                                                         std::to_string(kMaxRegexBound));
          }
        } else {
          value = 0;
        }
      }
    }
  }
  if (regcomp_cost(out.ere) > kMaxRegexNodes) {
    return base::fail(EnumError::bad_regexp,
                      "NAPTR regexp repeats too much (stacked, nested or of what can be empty)");
  }
  return out;
}

// apply_regexp() with a cache (compiled once) or without (compiled here).
base::Result<std::string> rewrite(std::string_view aus, std::string_view regexp, RegexCache* cache) {
  if (aus.size() > kMaxAusLength) return base::fail(EnumError::bad_regexp, "application unique string too long");
  auto parsed = split_regexp(regexp);
  if (!parsed) return tl::unexpected(parsed.error());
  detail::Regex local;
  const detail::Regex* re = &local;
  if (cache) {
    auto found = detail::RegexCacheAccess::compiled(*cache, parsed->ere, parsed->icase);
    if (!found) return tl::unexpected(found.error());
    re = *found;
  } else if (auto ok = local.compile(parsed->ere, parsed->icase); !ok) {
    return tl::unexpected(ok.error());
  }
  const std::string subject(aus);
  std::array<regmatch_t, kMaxGroups> m{};
  if (regexec(re->get(), subject.c_str(), m.size(), m.data(), 0) != 0) {
    return base::fail(EnumError::no_match, "NAPTR regexp '" + parsed->ere + "' does not match " + subject);
  }
  const std::size_t groups = re->get()->re_nsub;
  std::string out;
  const std::string& r = parsed->replacement;
  for (std::size_t k = 0; k < r.size(); ++k) {
    if (r[k] == '\\' && k + 1 < r.size()) {
      const char n = r[++k];
      if (n >= '1' && n <= '9') {
        const auto g = static_cast<std::size_t>(n - '0');
        if (g > groups) {
          return base::fail(EnumError::bad_regexp, std::string("NAPTR regexp refers to group \\") + n +
                                                       " but has " + std::to_string(groups));
        }
        if (m[g].rm_so >= 0 && m[g].rm_eo >= m[g].rm_so) {
          out.append(subject, static_cast<std::size_t>(m[g].rm_so), static_cast<std::size_t>(m[g].rm_eo - m[g].rm_so));
        }
      } else {
        out.push_back(n);
      }
    } else {
      out.push_back(r[k]);
    }
    if (out.size() > kMaxUriLength) return base::fail(EnumError::bad_uri, "NAPTR rewrite is too long");
  }
  return out;
}

}  // namespace

base::Result<std::string> apply_regexp(std::string_view aus, std::string_view regexp) {
  return rewrite(aus, regexp, nullptr);
}

base::Result<std::string> apply_regexp(std::string_view aus, std::string_view regexp, RegexCache& cache) {
  return rewrite(aus, regexp, &cache);
}

std::optional<std::string> match_enum_service(std::string_view services) {
  const std::string s = lowercase(services);
  static constexpr std::array<std::string_view, 4> kKnown = {"sip", "tel", "pstn:tel", "pstn:sip"};
  auto canonical = [](std::string_view svc) -> std::optional<std::string> {
    for (auto k : kKnown) {
      if (svc == k) return "E2U+" + std::string(k);
    }
    return std::nullopt;
  };
  if (s.rfind("e2u+", 0) == 0) {
    std::string_view rest = std::string_view(s).substr(4);
    while (!rest.empty()) {
      const std::size_t plus = rest.find('+');
      if (auto c = canonical(rest.substr(0, plus))) return c;
      if (plus == std::string_view::npos) break;
      rest.remove_prefix(plus + 1);
    }
    return std::nullopt;
  }
  if (s == "sip+e2u") return std::string("E2U+sip");  // RFC 2916 form
  return std::nullopt;
}

namespace {

// scheme ":" rest, RFC 3986 §3.1 scheme, no spaces or control characters.
bool uri_fits_service(std::string_view uri, std::string_view service) {
  const std::size_t colon = uri.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 >= uri.size()) return false;
  for (char c : uri) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) return false;
  }
  const std::string scheme = lowercase(uri.substr(0, colon));
  const bool wants_tel = service.ends_with(":tel") || service == "E2U+tel";
  if (wants_tel) return scheme == "tel";
  return scheme == "sip" || scheme == "sips";
}

bool is_domain_text(std::string_view d) {
  if (d.empty() || d.size() > 253) return false;
  for (char c : d) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) return false;
  }
  return true;
}

RuleResult apply_rules(const E164& number, std::span<const Naptr> records, RegexCache* cache) {
  RuleResult out;
  const std::string aus = number.str();
  const std::size_t count = std::min(records.size(), kMaxRecords);
  for (std::size_t i = count; i < records.size(); ++i) {
    out.skipped.push_back({i, base::Error(EnumError::invalid_record, "more than 64 NAPTR records")});
  }
  std::vector<std::size_t> idx(count);
  std::iota(idx.begin(), idx.end(), std::size_t{0});
  std::stable_sort(idx.begin(), idx.end(), [&](std::size_t a, std::size_t b) {
    const auto& x = records[a];
    const auto& y = records[b];
    return x.order != y.order ? x.order < y.order : x.preference < y.preference;
  });

  auto skip = [&](std::size_t i, EnumError code, std::string msg) {
    out.skipped.push_back({i, base::Error(code, std::move(msg))});
  };

  std::size_t k = 0;
  while (k < idx.size()) {
    const std::uint16_t order = records[idx[k]].order;
    bool matched = false;
    for (; k < idx.size() && records[idx[k]].order == order; ++k) {
      const std::size_t i = idx[k];
      const Naptr& n = records[i];
      const std::string flags = lowercase(n.flags);
      if (flags != "u" && !flags.empty()) {
        skip(i, EnumError::bad_flags, "NAPTR flags '" + n.flags + "' are not used by ENUM");
        continue;
      }
      const bool terminal = flags == "u";
      const bool has_regexp = !n.regexp.empty();
      const bool has_replacement = !n.replacement.empty();
      if (has_regexp == has_replacement) {
        skip(i, EnumError::invalid_record,
             has_regexp ? "NAPTR has both REGEXP and REPLACEMENT (RFC 3403 §4.1)"
                        : "NAPTR has neither REGEXP nor REPLACEMENT");
        continue;
      }
      auto service = match_enum_service(n.services);
      if (terminal) {
        if (!service) {
          skip(i, EnumError::unknown_service, "NAPTR service '" + n.services + "' ignored");
          continue;
        }
        if (!has_regexp) {
          skip(i, EnumError::invalid_record, "terminal NAPTR without REGEXP");
          continue;
        }
        auto uri = rewrite(aus, n.regexp, cache);
        if (!uri) {
          out.skipped.push_back({i, uri.error()});
          continue;
        }
        if (!uri_fits_service(*uri, *service)) {
          skip(i, EnumError::bad_uri, "NAPTR rewrite '" + *uri + "' is not a URI for " + *service);
          continue;
        }
        out.targets.push_back({std::move(*uri), std::move(*service), n.order, n.preference});
        matched = true;
        continue;
      }
      // Non-terminal: empty SERVICES or one we handle.
      if (!service && !n.services.empty()) {
        skip(i, EnumError::unknown_service, "NAPTR service '" + n.services + "' ignored");
        continue;
      }
      std::string domain = n.replacement;
      if (has_regexp) {
        auto rewritten = rewrite(aus, n.regexp, cache);
        if (!rewritten) {
          out.skipped.push_back({i, rewritten.error()});
          continue;
        }
        domain = std::move(*rewritten);
      }
      while (!domain.empty() && domain.back() == '.') domain.pop_back();
      if (!is_domain_text(domain)) {
        skip(i, EnumError::bad_name, "NAPTR next domain '" + domain + "' is not a domain name");
        continue;
      }
      out.next.push_back({std::move(domain), n.order, n.preference});
      matched = true;
    }
    // RFC 3403 §4.1: once an ORDER matched, records of a different ORDER
    // are not considered.
    if (matched) break;
  }
  return out;
}

}  // namespace

RuleResult apply_naptr_rules(const E164& number, std::span<const Naptr> records) {
  return apply_rules(number, records, nullptr);
}

RuleResult apply_naptr_rules(const E164& number, std::span<const Naptr> records, RegexCache& cache) {
  return apply_rules(number, records, &cache);
}

}  // namespace sipline::e164
