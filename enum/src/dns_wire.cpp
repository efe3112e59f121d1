#include "dns_wire.hpp"

#include <string_view>

namespace sipline::e164::wire {

namespace {

void append_label(std::string& out, std::span<const std::uint8_t> label) {
  if (!out.empty()) out.push_back('.');
  for (std::uint8_t b : label) {
    const char c = static_cast<char>(b);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_') {
      out.push_back(c);
    } else if (c == '.' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else {
      out.push_back('\\');
      out.push_back(static_cast<char>('0' + b / 100));
      out.push_back(static_cast<char>('0' + (b / 10) % 10));
      out.push_back(static_cast<char>('0' + b % 10));
    }
  }
}

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string_view strip_dot(std::string_view s) {
  if (!s.empty() && s.back() == '.') s.remove_suffix(1);
  return s;
}

}  // namespace

base::Result<std::size_t> read_name(std::span<const std::uint8_t> data, std::size_t pos,
                                    std::span<const std::uint8_t> message, std::string& out,
                                    const char* what) {
  const std::string w(what);
  std::span<const std::uint8_t> cur = data;
  std::size_t consumed = 0;
  bool jumped = false;
  int pointers = 0;
  std::size_t wire_length = 1;  // the final root octet
  while (true) {
    if (pos >= cur.size()) return base::fail(EnumError::truncated, w + " name is truncated");
    const std::uint8_t len = cur[pos];
    if (len == 0) {
      if (!jumped) consumed = pos + 1;
      return consumed;
    }
    if ((len & 0xC0) == 0xC0) {
      if (pos + 1 >= cur.size()) return base::fail(EnumError::truncated, w + " pointer is truncated");
      if (message.empty()) {
        return base::fail(EnumError::bad_name, w + " is compressed but no DNS message was given");
      }
      if (++pointers > kMaxPointers) return base::fail(EnumError::bad_name, w + " pointers loop");
      const std::size_t target = static_cast<std::size_t>(((len & 0x3F) << 8) | cur[pos + 1]);
      if (!jumped) consumed = pos + 2;
      jumped = true;
      if (target >= message.size()) {
        return base::fail(EnumError::bad_name, w + " pointer " + std::to_string(target) + " is outside the message");
      }
      cur = message;
      pos = target;
      continue;
    }
    if ((len & 0xC0) != 0) return base::fail(EnumError::bad_name, w + " has a reserved label type");
    if (cur.size() - pos - 1 < len) return base::fail(EnumError::truncated, w + " label is truncated");
    wire_length += 1 + len;
    if (wire_length > kMaxNameLength) return base::fail(EnumError::bad_name, w + " name is longer than 255 octets");
    append_label(out, cur.subspan(pos + 1, len));
    pos += 1 + len;
  }
}

bool same_name(std::string_view a, std::string_view b) {
  a = strip_dot(a);
  b = strip_dot(b);
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

}  // namespace sipline::e164::wire
