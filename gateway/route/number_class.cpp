#include "route/number_class.hpp"

#include <algorithm>

namespace sipline::gateway::route {

namespace {

bool has_prefix(const std::string& e164, const std::vector<std::string>& prefixes) {
  return std::any_of(prefixes.begin(), prefixes.end(), [&](const std::string& p) { return e164.starts_with(p); });
}

}  // namespace

TollPrefixes default_toll_prefixes(std::string_view region) {
  const auto plan = e164::builtin_plan(region);
  if (!plan) return {};
  if (plan->country_code == "1") {
    // NANP: 900 and 976 premium; the Caribbean and Atlantic members of +1 are
    // other countries billed at international rates (the "one ring" scams).
    return {.international = {"+1242", "+1246", "+1264", "+1268", "+1284", "+1345", "+1441", "+1473", "+1649",
                              "+1658", "+1664", "+1721", "+1758", "+1767", "+1784", "+1809", "+1829", "+1849",
                              "+1868", "+1869", "+1876"},
            .premium = {"+1900", "+1976"}};
  }
  if (plan->country_code == "44") return {.international = {}, .premium = {"+449", "+4487", "+44118", "+4470"}};
  if (plan->country_code == "49") return {.international = {}, .premium = {"+49900", "+49137", "+49118", "+4919"}};
  if (plan->country_code == "33") return {.international = {}, .premium = {"+3381", "+3382", "+3389", "+33118"}};
  if (plan->country_code == "81") return {.international = {}, .premium = {"+81990", "+81570"}};
  return {};
}

NumberClass classify(const std::optional<e164::E164>& number, const e164::NumberingPlan& plan,
                     const TollPrefixes& prefixes) {
  if (!number) return NumberClass::national;
  const std::string e = number->str();
  if (has_prefix(e, prefixes.premium)) return NumberClass::premium;
  if (!e.starts_with("+" + plan.country_code) || has_prefix(e, prefixes.international)) {
    return NumberClass::international;
  }
  return NumberClass::national;
}

std::string_view number_class_name(NumberClass c) {
  switch (c) {
    case NumberClass::national: return "national";
    case NumberClass::international: return "international";
    case NumberClass::premium: return "premium";
  }
  return "?";
}

bool permits(const Permissions& p, NumberClass c) {
  switch (c) {
    case NumberClass::national: return true;
    case NumberClass::international: return p.international;
    case NumberClass::premium: return p.premium;
  }
  return false;
}

bool add_permission(Permissions& p, std::string_view word) {
  if (word == "international") {
    p.international = true;
  } else if (word == "premium") {
    p.premium = true;
  } else {
    return false;
  }
  return true;
}

}  // namespace sipline::gateway::route
