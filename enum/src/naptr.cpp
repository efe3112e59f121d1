#include "sipline/enum/naptr.hpp"

#include <cstddef>

#include "dns_wire.hpp"

namespace sipline::e164 {

namespace {

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
  auto used = wire::read_name(rdata, r.pos(), message, n.replacement, "NAPTR replacement");
  if (!used) return tl::unexpected(used.error());
  if (*used != rdata.size()) {
    return base::fail(EnumError::trailing_data,
                      "NAPTR RDATA has " + std::to_string(rdata.size() - *used) + " octets after REPLACEMENT");
  }
  return n;
}

}  // namespace sipline::e164
