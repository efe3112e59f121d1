#pragma once
// Builds NAPTR RDATA and whole DNS messages (RFC 1035 §4.1) by hand for the
// enum unit tests.
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sipline::e164::testing {

using Bytes = std::vector<std::uint8_t>;

inline void put_u16(Bytes& b, std::uint16_t v) {
  b.push_back(static_cast<std::uint8_t>(v >> 8));
  b.push_back(static_cast<std::uint8_t>(v & 0xff));
}

inline void put_string(Bytes& b, std::string_view s) {
  b.push_back(static_cast<std::uint8_t>(s.size()));
  b.insert(b.end(), s.begin(), s.end());
}

// "sip.example.com" -> 3sip7example3com0; "" -> root.
inline void put_name(Bytes& b, std::string_view name) {
  while (!name.empty()) {
    const auto dot = name.find('.');
    const auto label = name.substr(0, dot);
    put_string(b, label);
    if (dot == std::string_view::npos) break;
    name.remove_prefix(dot + 1);
  }
  b.push_back(0);
}

inline Bytes naptr_rdata(std::uint16_t order, std::uint16_t pref, std::string_view flags, std::string_view services,
                         std::string_view regexp, std::string_view replacement) {
  Bytes b;
  put_u16(b, order);
  put_u16(b, pref);
  put_string(b, flags);
  put_string(b, services);
  put_string(b, regexp);
  put_name(b, replacement);
  return b;
}

inline void put_u32(Bytes& b, std::uint32_t v) {
  put_u16(b, static_cast<std::uint16_t>(v >> 16));
  put_u16(b, static_cast<std::uint16_t>(v & 0xffff));
}

// A domain name in wire form: "a.b" -> 1a1b0.
inline Bytes wire_name(std::string_view name) {
  Bytes b;
  put_name(b, name);
  return b;
}

// A compression pointer to `offset` in the message (RFC 1035 §4.1.4).
inline Bytes name_pointer(std::uint16_t offset) {
  return {static_cast<std::uint8_t>(0xC0 | (offset >> 8)), static_cast<std::uint8_t>(offset & 0xff)};
}

// Labels then a pointer: "www" + pointer 12 -> 3www C0 0C.
inline Bytes name_with_pointer(std::string_view labels, std::uint16_t offset) {
  Bytes b = wire_name(labels);
  b.pop_back();  // the root
  const Bytes p = name_pointer(offset);
  b.insert(b.end(), p.begin(), p.end());
  return b;
}

inline constexpr std::uint16_t kQnameOffset = 12;  // the question's name, right after the header

inline Bytes soa_rdata(std::string_view mname, std::string_view rname, std::uint32_t serial, std::uint32_t refresh,
                       std::uint32_t retry, std::uint32_t expire, std::uint32_t minimum) {
  Bytes b;
  put_name(b, mname);
  put_name(b, rname);
  put_u32(b, serial);
  put_u32(b, refresh);
  put_u32(b, retry);
  put_u32(b, expire);
  put_u32(b, minimum);
  return b;
}

struct WireRr {
  Bytes owner;  // wire form: wire_name(), name_pointer() or name_with_pointer()
  std::uint16_t type = 35;
  std::uint16_t rclass = 1;
  std::uint32_t ttl = 3600;
  Bytes rdata;
};

inline WireRr naptr_rr(std::string_view owner, std::uint32_t ttl, Bytes rdata) {
  return {.owner = wire_name(owner), .type = 35, .rclass = 1, .ttl = ttl, .rdata = std::move(rdata)};
}

inline WireRr cname_rr(std::string_view owner, std::uint32_t ttl, std::string_view target) {
  return {.owner = wire_name(owner), .type = 5, .rclass = 1, .ttl = ttl, .rdata = wire_name(target)};
}

inline WireRr soa_rr(std::string_view zone, std::uint32_t ttl, std::uint32_t minimum) {
  return {.owner = wire_name(zone),
          .type = 6,
          .rclass = 1,
          .ttl = ttl,
          .rdata = soa_rdata("ns1." + std::string(zone), "hostmaster." + std::string(zone), 2026113001, 7200, 900,
                             1209600, minimum)};
}

inline constexpr std::uint16_t kResponseFlags = 0x8180;  // QR, RD, RA, NOERROR

struct WireMessage {
  std::uint16_t id = 0x1234;
  std::uint16_t flags = kResponseFlags;  // RCODE in the low 4 bits
  std::string qname;
  std::uint16_t qtype = 35;
  std::uint16_t qclass = 1;
  std::vector<WireRr> answers;
  std::vector<WireRr> authority;
  std::vector<WireRr> additional;
};

inline void put_rr(Bytes& b, const WireRr& rr) {
  b.insert(b.end(), rr.owner.begin(), rr.owner.end());
  put_u16(b, rr.type);
  put_u16(b, rr.rclass);
  put_u32(b, rr.ttl);
  put_u16(b, static_cast<std::uint16_t>(rr.rdata.size()));
  b.insert(b.end(), rr.rdata.begin(), rr.rdata.end());
}

// Header (QDCOUNT 1, the other counts from the sections), question, sections.
inline Bytes build_message(const WireMessage& m) {
  Bytes b;
  put_u16(b, m.id);
  put_u16(b, m.flags);
  put_u16(b, 1);
  put_u16(b, static_cast<std::uint16_t>(m.answers.size()));
  put_u16(b, static_cast<std::uint16_t>(m.authority.size()));
  put_u16(b, static_cast<std::uint16_t>(m.additional.size()));
  put_name(b, m.qname);
  put_u16(b, m.qtype);
  put_u16(b, m.qclass);
  for (const auto& rr : m.answers) put_rr(b, rr);
  for (const auto& rr : m.authority) put_rr(b, rr);
  for (const auto& rr : m.additional) put_rr(b, rr);
  return b;
}

}  // namespace sipline::e164::testing
