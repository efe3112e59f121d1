#include "sipline/enum/naptr.hpp"

#include <cstddef>

namespace sipline::e164 {

namespace {

constexpr std::size_t kMaxNameLength = 255;  // RFC 1035 §3.1, wire octets
constexpr int kMaxPointers = 32;

class Reader {
 public:
  explicit Reader(std::span<const std::uint8_t> data) : data_(data) {}
  std::size_t pos() const { return pos_; }
  std::size_t left() const { return data_.size() - pos_; }

  base::Result<std::uint16_t> u16(const char* field) {
    if (left() < 2) return base::fail(EnumError::truncated, std::string("NAPTR RDATA ends in ") + field);
    const auto v = static_cast<std::uint16_t>((data_[pos_] << 8) | data_[pos_ + 1]);
    pos_ += 2;
    return v;
  }

  base::Result<std::string> character_string(const char* field) {
    if (left() < 1) return base::fail(EnumError::truncated, std::string("NAPTR RDATA ends before ") + field);
    const std::size_t n = data_[pos_];
    if (left() - 1 < n) {
      return base::fail(EnumError::truncated, std::string("NAPTR ") + field + " length " + std::to_string(n) +
                                                  " runs past the RDATA (" + std::to_string(left() - 1) +
                                                  " octets left)");
    }
    std::string s(reinterpret_cast<const char*>(data_.data() + pos_ + 1), n);
    pos_ += 1 + n;
    return s;
  }

 private:
  std::span<const std::uint8_t> data_;
  std::size_t pos_ = 0;
};

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

// Reads a domain name at `pos` of `data`; returns the octets consumed in
// `data` (up to and including the first pointer, if any).
base::Result<std::size_t> read_name(std::span<const std::uint8_t> data, std::size_t pos,
                                    std::span<const std::uint8_t> message, std::string& out) {
  std::span<const std::uint8_t> cur = data;
  std::size_t consumed = 0;
  bool jumped = false;
  int pointers = 0;
  std::size_t wire_length = 1;  // the final root octet
  while (true) {
    if (pos >= cur.size()) return base::fail(EnumError::truncated, "NAPTR replacement name is truncated");
    const std::uint8_t len = cur[pos];
    if (len == 0) {
      if (!jumped) consumed = pos + 1;
      return consumed;
    }
    if ((len & 0xC0) == 0xC0) {
      if (pos + 1 >= cur.size()) return base::fail(EnumError::truncated, "NAPTR replacement pointer is truncated");
      if (message.empty()) {
        return base::fail(EnumError::bad_name, "NAPTR replacement is compressed but no DNS message was given");
      }
      if (++pointers > kMaxPointers) return base::fail(EnumError::bad_name, "NAPTR replacement pointers loop");
      const std::size_t target = static_cast<std::size_t>(((len & 0x3F) << 8) | cur[pos + 1]);
      if (!jumped) consumed = pos + 2;
      jumped = true;
      if (target >= message.size()) {
        return base::fail(EnumError::bad_name, "NAPTR replacement pointer " + std::to_string(target) +
                                                   " is outside the message");
      }
      cur = message;
      pos = target;
      continue;
    }
    if ((len & 0xC0) != 0) return base::fail(EnumError::bad_name, "NAPTR replacement has a reserved label type");
    if (cur.size() - pos - 1 < len) return base::fail(EnumError::truncated, "NAPTR replacement label is truncated");
    wire_length += 1 + len;
    if (wire_length > kMaxNameLength) {
      return base::fail(EnumError::bad_name, "NAPTR replacement name is longer than 255 octets");
    }
    append_label(out, cur.subspan(pos + 1, len));
    pos += 1 + len;
  }
}

}  // namespace

base::Result<Naptr> parse_naptr_rdata(std::span<const std::uint8_t> rdata, std::span<const std::uint8_t> message) {
  Reader r(rdata);
  Naptr n;
  auto order = r.u16("ORDER");
  if (!order) return tl::unexpected(order.error());
  auto preference = r.u16("PREFERENCE");
  if (!preference) return tl::unexpected(preference.error());
  auto flags = r.character_string("FLAGS");
  if (!flags) return tl::unexpected(flags.error());
  auto services = r.character_string("SERVICES");
  if (!services) return tl::unexpected(services.error());
  auto regexp = r.character_string("REGEXP");
  if (!regexp) return tl::unexpected(regexp.error());
  n.order = *order;
  n.preference = *preference;
  n.flags = std::move(*flags);
  n.services = std::move(*services);
  n.regexp = std::move(*regexp);
  if (r.left() == 0) return base::fail(EnumError::truncated, "NAPTR RDATA ends before REPLACEMENT");
  auto used = read_name(rdata, r.pos(), message, n.replacement);
  if (!used) return tl::unexpected(used.error());
  if (*used != rdata.size()) {
    return base::fail(EnumError::trailing_data,
                      "NAPTR RDATA has " + std::to_string(rdata.size() - *used) + " octets after REPLACEMENT");
  }
  return n;
}

}  // namespace sipline::e164
