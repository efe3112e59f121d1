// The country profiles as data. The built-in ones are the TOML files in
// dsp/profiles/ (us, jp, uk, de, fr), compiled in by CMake and parsed once, on
// first use; their values and the sources of each value (ITU-T E.180
// Supplement 2, GR-506, GR-30, BT SIN 350 / SIN 227, 1 TR 110, France Telecom
// STI, NTT, ETSI EN 300 659-1) are documented there, value by value.
// parse_tone_profile() reads the same layout for a user's [countries.XX]
// override, on top of a built-in profile.
//
// toml++ (the Debian build is a shared library built with exceptions) throws
// toml::parse_error from toml::parse(); parse_tone_profile_text() catches it.
// A built-in file that does not parse is a build defect: the unit tests parse
// every one, and the loader aborts if one ever slips through.
#include "sipline/dsp/tone_profile.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <span>
#include <utility>

#include "built_in_profiles.hpp"
#include "sipline/dsp/tone_profile_toml.hpp"

namespace sipline::dsp {
namespace {

using Status = tl::expected<void, ProfileError>;

constexpr std::int64_t kMaxFrequencyHz = 4000;  // the 8 kHz line's Nyquist limit
constexpr std::int64_t kMaxModulationHz = 100;
constexpr std::int64_t kMinLevelDbm0 = -60;
constexpr std::int64_t kMaxLevelDbm0 = 0;
constexpr std::int64_t kMaxDurationMs = 60000;
constexpr std::int64_t kMaxFlashMs = 10000;
constexpr std::int64_t kMaxDebounceMs = 1000;

constexpr std::array<BuiltInProfileFile, 5> kBuiltInFiles = {{
    {"us.toml", built_in::kUsToml},
    {"jp.toml", built_in::kJpToml},
    {"uk.toml", built_in::kUkToml},
    {"de.toml", built_in::kDeToml},
    {"fr.toml", built_in::kFrToml},
}};

constexpr std::array<CallerIdFormat, 7> kFormats = {CallerIdFormat::none, CallerIdFormat::bell202_sdmf,
                                                    CallerIdFormat::bell202_mdmf, CallerIdFormat::etsi,
                                                    CallerIdFormat::bt, CallerIdFormat::jclip,
                                                    CallerIdFormat::dtmf};
constexpr std::array<CallerIdAlert, 5> kAlerts = {CallerIdAlert::first_ring, CallerIdAlert::line_reversal,
                                                  CallerIdAlert::dt_as, CallerIdAlert::rp_as,
                                                  CallerIdAlert::ntt_car};


tl::unexpected<ProfileError> fail_at(const toml::source_region& r, std::string message) {
  return tl::unexpected<ProfileError>(
      ProfileError{std::move(message), static_cast<int>(r.begin.line), static_cast<int>(r.begin.column)});
}

std::string join(std::string_view table, std::string_view key) {
  return table.empty() ? std::string(key) : std::string(table) + "." + std::string(key);
}

std::string indexed(std::string_view name, std::size_t i) {
  return std::string(name) + "[" + std::to_string(i) + "]";
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::toupper(static_cast<unsigned char>(a[i])) != std::toupper(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

// Reads one profile table into a copy of the base (or a default profile,
// every key then required).
class ProfileParser {
 public:
  explicit ProfileParser(const ToneProfile* base) : required_(base == nullptr), p_(base ? *base : ToneProfile{}) {}

  ProfileResult parse(const toml::table& t) {
    if (auto r = parse_root(t); !r) return tl::unexpected<ProfileError>(std::move(r.error()));
    return std::move(p_);
  }

 private:
  Status parse_root(const toml::table& t) {
    if (auto r = check_keys(t, "", {"country", "ring_cadence_ms", "tones", "caller_id", "hook", "disconnect"}); !r) {
      return r;
    }
    if (auto r = get_country(t); !r) return r;
    if (auto r = get_cadence(t, "", "ring_cadence_ms", p_.ring_cadence_ms); !r) return r;
    if (auto r = parse_tones(t); !r) return r;
    if (auto r = parse_caller_id(t); !r) return r;
    if (auto r = parse_hook(t); !r) return r;
    return parse_disconnect(t);
  }

  Status check_keys(const toml::table& t, std::string_view table, std::initializer_list<std::string_view> allowed) {
    return check_keys(t, table, std::span<const std::string_view>(allowed.begin(), allowed.size()));
  }
  Status check_keys(const toml::table& t, std::string_view table, std::span<const std::string_view> allowed) {
    for (auto&& [key, node] : t) {
      (void)node;
      if (std::find(allowed.begin(), allowed.end(), key.str()) != allowed.end()) continue;
      std::string known;
      for (std::string_view k : allowed) known += (known.empty() ? "" : ", ") + std::string(k);
      return fail_at(key.source(), join(table, key.str()) + ": unknown key (" + known + ")");
    }
    return {};
  }

  // The node of `key`, or nullptr when it is absent and may be (with a base).
  tl::expected<const toml::node*, ProfileError> lookup(const toml::table& t, std::string_view table,
                                                       std::string_view key) {
    const toml::node* n = t.get(key);
    // Keys added after profiles were first written out keep their defaults
    // in a complete profile too (no howler, standard rotary dial timing).
    const bool optional = key == "howler" || key == "pulse_break_max_ms" || key == "pulse_interdigit_ms";
    if (n == nullptr && required_ && !optional) return fail_at(t.source(), join(table, key) + ": missing");
    return n;
  }

  static tl::unexpected<ProfileError> wrong_type(const toml::node& n, const std::string& name, const char* expected) {
    return fail_at(n.source(), name + ": expected " + expected + ", got " + toml_type_name(n.type()));
  }

  static tl::expected<int, ProfileError> as_int(const toml::node& n, const std::string& name, std::int64_t min,
                                                std::int64_t max) {
    if (!n.is_integer()) return wrong_type(n, name, "an integer");
    const std::int64_t v = n.as_integer()->get();
    if (v < min || v > max) {
      return fail_at(n.source(), name + ": " + std::to_string(v) + " is out of range " + std::to_string(min) + ".." +
                                     std::to_string(max));
    }
    return static_cast<int>(v);
  }

  Status get_int(const toml::table& t, std::string_view table, std::string_view key, std::int64_t min,
                 std::int64_t max, int& out) {
    auto n = lookup(t, table, key);
    if (!n) return tl::unexpected<ProfileError>(n.error());
    if (*n == nullptr) return {};
    auto v = as_int(**n, join(table, key), min, max);
    if (!v) return tl::unexpected<ProfileError>(v.error());
    out = *v;
    return {};
  }

  Status get_bool(const toml::table& t, std::string_view table, std::string_view key, bool& out) {
    auto n = lookup(t, table, key);
    if (!n) return tl::unexpected<ProfileError>(n.error());
    if (*n == nullptr) return {};
    if (!(*n)->is_boolean()) return wrong_type(**n, join(table, key), "true or false");
    out = (*n)->as_boolean()->get();
    return {};
  }

  // An integer or float level in kMinLevelDbm0..kMaxLevelDbm0.
  Status get_level(const toml::table& t, std::string_view table, std::string_view key, double& out) {
    auto n = lookup(t, table, key);
    if (!n) return tl::unexpected<ProfileError>(n.error());
    if (*n == nullptr) return {};
    const toml::node& node = **n;
    double v = 0;
    if (node.is_integer()) {
      v = static_cast<double>(node.as_integer()->get());
    } else if (node.is_floating_point()) {
      v = node.as_floating_point()->get();
    } else {
      return wrong_type(node, join(table, key), "a number");
    }
    if (!(v >= kMinLevelDbm0 && v <= kMaxLevelDbm0)) {
      char shown[32];
      std::snprintf(shown, sizeof shown, "%g", v);
      return fail_at(node.source(), join(table, key) + ": " + shown + " dBm0 is out of range " +
                                        std::to_string(kMinLevelDbm0) + ".." + std::to_string(kMaxLevelDbm0));
    }
    out = v;
    return {};
  }

  Status get_string(const toml::table& t, std::string_view table, std::string_view key, const toml::node*& node,
                    std::string& out) {
    auto n = lookup(t, table, key);
    if (!n) return tl::unexpected<ProfileError>(n.error());
    node = *n;
    if (node == nullptr) return {};
    if (!node->is_string()) return wrong_type(*node, join(table, key), "a string");
    out = node->as_string()->get();
    return {};
  }

  // On/off durations: a non-empty, even-length list of positive durations.
  Status get_cadence(const toml::table& t, std::string_view table, std::string_view key, std::vector<int>& out) {
    auto n = lookup(t, table, key);
    if (!n) return tl::unexpected<ProfileError>(n.error());
    if (*n == nullptr) return {};
    const std::string name = join(table, key);
    const toml::array* a = (*n)->as_array();
    if (a == nullptr) return wrong_type(**n, name, "an array of durations (ms)");
    if (a->empty()) return fail_at(a->source(), name + ": must not be empty");
    std::vector<int> v;
    for (std::size_t i = 0; i < a->size(); ++i) {
      auto ms = as_int(*a->get(i), indexed(name, i), 1, kMaxDurationMs);
      if (!ms) return tl::unexpected<ProfileError>(ms.error());
      v.push_back(*ms);
    }
    if (v.size() % 2 != 0) {
      return fail_at(a->source(), name + ": " + std::to_string(v.size()) +
                                      " entries; needs on/off pairs (an even number of entries)");
    }
    out = std::move(v);
    return {};
  }

  // A sub-table; `out` stays nullptr when it is absent and may be.
  Status section(const toml::table& t, std::string_view name, const toml::table*& out) {
    out = nullptr;
    const toml::node* n = t.get(name);
    if (n == nullptr) {
      if (required_) return fail_at(t.source(), std::string(name) + ": missing table [" + std::string(name) + "]");
      return {};
    }
    if (!n->is_table()) return wrong_type(*n, std::string(name), "a table");
    out = n->as_table();
    return check_keys(*out, name, section_keys(name));
  }

  static std::span<const std::string_view> section_keys(std::string_view name) {
    static constexpr std::array<std::string_view, 8> kTones = {
        "dial",         "ringback",     "busy", "congestion", "call_waiting", "stutter_dial",
        "special_information", "howler"};
    static constexpr std::array<std::string_view, 9> kCallerId = {
        "format",        "alert",      "reversal_ms",    "alert_ms",      "data_delay_ms",
        "ring_delay_ms", "level_dbm0", "car_cadence_ms", "car_timeout_ms"};
    static constexpr std::array<std::string_view, 5> kHook = {"flash_min_ms", "flash_max_ms", "debounce_ms",
                                                              "pulse_break_max_ms", "pulse_interdigit_ms"};
    static constexpr std::array<std::string_view, 3> kDisconnect = {"polarity_reversal", "loop_drop_ms",
                                                                    "busy_tone"};
    if (name == "tones") return kTones;
    if (name == "caller_id") return kCallerId;
    if (name == "hook") return kHook;
    return kDisconnect;
  }

  Status get_country(const toml::table& t) {
    const toml::node* n = nullptr;
    std::string country;
    if (auto r = get_string(t, "", "country", n, country); !r) return r;
    if (n == nullptr) return {};
    const bool letters = country.size() == 2 && std::all_of(country.begin(), country.end(), [](char c) {
                           return std::isalpha(static_cast<unsigned char>(c)) != 0;
                         });
    if (!letters) {
      return fail_at(n->source(), "country: \"" + country + "\" is not an ISO 3166 alpha-2 code (two letters)");
    }
    for (char& c : country) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    p_.country = std::move(country);
    return {};
  }

  Status parse_tones(const toml::table& root) {
    const toml::table* t = nullptr;
    if (auto r = section(root, "tones", t); !r) return r;
    if (t == nullptr) return {};
    const std::pair<std::string_view, ToneSpec*> tones[] = {
        {"dial", &p_.dial},
        {"ringback", &p_.ringback},
        {"busy", &p_.busy},
        {"congestion", &p_.congestion},
        {"call_waiting", &p_.call_waiting},
        {"stutter_dial", &p_.stutter_dial},
        {"special_information", &p_.special_information},
        {"howler", &p_.howler},
    };
    for (const auto& [key, spec] : tones) {
      auto n = lookup(*t, "tones", key);
      if (!n) return tl::unexpected<ProfileError>(n.error());
      if (*n == nullptr) continue;
      auto parsed = parse_tone(**n, join("tones", key));
      if (!parsed) return tl::unexpected<ProfileError>(parsed.error());
      *spec = std::move(*parsed);
    }
    return {};
  }

  tl::expected<ToneSpec, ProfileError> parse_tone(const toml::node& n, const std::string& name) {
    const toml::array* a = n.as_array();
    if (a == nullptr) return wrong_type(n, name, "an array of steps");
    if (a->empty()) return fail_at(a->source(), name + ": must not be empty");
    ToneSpec spec;
    bool sounds = false;
    for (std::size_t i = 0; i < a->size(); ++i) {
      const std::string step_name = indexed(name, i);
      const toml::node& e = *a->get(i);
      const toml::table* s = e.as_table();
      if (s == nullptr) return wrong_type(e, step_name, "a step {f1, f2, mod, level, ms}");
      if (auto r = check_keys(*s, step_name, {"f1", "f2", "mod", "level", "ms"}); !r) {
        return tl::unexpected<ProfileError>(r.error());
      }
      auto step = parse_step(*s, step_name, i + 1 == a->size());
      if (!step) return tl::unexpected<ProfileError>(step.error());
      sounds = sounds || step->f1_hz > 0;
      spec.steps.push_back(*step);
    }
    if (!sounds) return fail_at(a->source(), name + ": every step is silent (f1 = 0)");
    return spec;
  }

  // Inside a step, f1 and ms are always required, level when f1 sounds;
  // f2 and mod default to 0 (a step is replaced whole, never merged).
  tl::expected<ToneStep, ProfileError> parse_step(const toml::table& s, const std::string& name, bool last) {
    ToneStep step{.f1_hz = 0, .f2_hz = 0, .mod_hz = 0, .level_dbm0 = 0, .duration_ms = 0};
    const auto field = [&](std::string_view key, bool required, std::int64_t min, std::int64_t max,
                           int& out) -> Status {
      const toml::node* n = s.get(key);
      if (n == nullptr) {
        if (required) return fail_at(s.source(), join(name, key) + ": missing");
        return {};
      }
      auto v = as_int(*n, join(name, key), min, max);
      if (!v) return tl::unexpected<ProfileError>(v.error());
      out = *v;
      return {};
    };
    if (auto r = field("f1", true, 0, kMaxFrequencyHz, step.f1_hz); !r) return tl::unexpected<ProfileError>(r.error());
    if (auto r = field("f2", false, 0, kMaxFrequencyHz, step.f2_hz); !r) {
      return tl::unexpected<ProfileError>(r.error());
    }
    if (auto r = field("mod", false, 0, kMaxModulationHz, step.mod_hz); !r) {
      return tl::unexpected<ProfileError>(r.error());
    }
    if (auto r = field("level", step.f1_hz > 0, kMinLevelDbm0, kMaxLevelDbm0, step.level_dbm0); !r) {
      return tl::unexpected<ProfileError>(r.error());
    }
    if (auto r = field("ms", true, 0, kMaxDurationMs, step.duration_ms); !r) {
      return tl::unexpected<ProfileError>(r.error());
    }
    if (step.f1_hz == 0) {
      for (std::string_view key : {"f2", "mod"}) {
        const toml::node* n = s.get(key);
        if (n != nullptr && n->value_or<std::int64_t>(0) != 0) {
          return fail_at(n->source(), join(name, key) + ": a silent step (f1 = 0) has no " + std::string(key));
        }
      }
    }
    if (step.duration_ms == 0) {
      const toml::source_region& where = s.get("ms")->source();
      if (step.f1_hz == 0) return fail_at(where, join(name, "ms") + ": a silent step needs a duration");
      if (!last) {
        return fail_at(where, join(name, "ms") + ": 0 (until stopped) is only allowed on the last step");
      }
    }
    return step;
  }

  Status parse_caller_id(const toml::table& root) {
    const toml::table* t = nullptr;
    if (auto r = section(root, "caller_id", t); !r) return r;
    if (t == nullptr) return {};
    CallerIdTiming& c = p_.caller_id;

    const toml::node* n = nullptr;
    std::string name;
    if (auto r = get_string(*t, "caller_id", "format", n, name); !r) return r;
    if (n != nullptr) {
      const auto format = caller_id_format_from_string(name);
      if (!format) {
        std::string known;
        for (CallerIdFormat f : kFormats) known += (known.empty() ? "" : ", ") + std::string(to_string(f));
        return fail_at(n->source(), "caller_id.format: unknown format \"" + name + "\" (" + known + ")");
      }
      c.format = *format;
    }
    if (auto r = get_string(*t, "caller_id", "alert", n, name); !r) return r;
    if (n != nullptr) {
      const auto alert = caller_id_alert_from_string(name);
      if (!alert) {
        std::string known;
        for (CallerIdAlert a : kAlerts) known += (known.empty() ? "" : ", ") + std::string(to_string(a));
        return fail_at(n->source(), "caller_id.alert: unknown alert \"" + name + "\" (" + known + ")");
      }
      c.alert = *alert;
    }
    if (auto r = get_int(*t, "caller_id", "reversal_ms", 0, kMaxDurationMs, c.reversal_ms); !r) return r;
    if (auto r = get_int(*t, "caller_id", "alert_ms", 0, kMaxDurationMs, c.alert_ms); !r) return r;
    if (auto r = get_int(*t, "caller_id", "data_delay_ms", 0, kMaxDurationMs, c.data_delay_ms); !r) return r;
    if (auto r = get_int(*t, "caller_id", "ring_delay_ms", 0, kMaxDurationMs, c.ring_delay_ms); !r) return r;
    if (auto r = get_level(*t, "caller_id", "level_dbm0", c.level_dbm0); !r) return r;
    if (auto r = get_cadence(*t, "caller_id", "car_cadence_ms", c.car_cadence_ms); !r) return r;
    return get_int(*t, "caller_id", "car_timeout_ms", 0, kMaxDurationMs, c.car_timeout_ms);
  }

  Status parse_hook(const toml::table& root) {
    const toml::table* t = nullptr;
    if (auto r = section(root, "hook", t); !r) return r;
    if (t == nullptr) return {};
    HookTiming& h = p_.hook;
    if (auto r = get_int(*t, "hook", "flash_min_ms", 0, kMaxFlashMs, h.flash_min_ms); !r) return r;
    if (auto r = get_int(*t, "hook", "flash_max_ms", 0, kMaxFlashMs, h.flash_max_ms); !r) return r;
    if (auto r = get_int(*t, "hook", "debounce_ms", 0, kMaxDebounceMs, h.debounce_ms); !r) return r;
    if (auto r = get_int(*t, "hook", "pulse_break_max_ms", 0, kMaxDebounceMs, h.pulse_break_max_ms); !r) return r;
    if (auto r = get_int(*t, "hook", "pulse_interdigit_ms", 1, kMaxFlashMs, h.pulse_interdigit_ms); !r) return r;
    // Cross-checks point at the key the table names (an override may name
    // only one side), the later one first.
    if (h.flash_min_ms >= h.flash_max_ms) {
      if (const toml::node* max = t->get("flash_max_ms")) {
        return fail_at(max->source(), "hook.flash_max_ms: " + std::to_string(h.flash_max_ms) +
                                          " must be greater than hook.flash_min_ms (" +
                                          std::to_string(h.flash_min_ms) + ")");
      }
      const toml::node* min = t->get("flash_min_ms");
      return fail_at(min ? min->source() : t->source(), "hook.flash_min_ms: " + std::to_string(h.flash_min_ms) +
                                                            " must be less than hook.flash_max_ms (" +
                                                            std::to_string(h.flash_max_ms) + ")");
    }
    if (h.debounce_ms > h.flash_min_ms) {
      if (const toml::node* debounce = t->get("debounce_ms")) {
        return fail_at(debounce->source(), "hook.debounce_ms: " + std::to_string(h.debounce_ms) +
                                               " must not exceed hook.flash_min_ms (" +
                                               std::to_string(h.flash_min_ms) + ")");
      }
      const toml::node* min = t->get("flash_min_ms");
      return fail_at(min ? min->source() : t->source(), "hook.flash_min_ms: " + std::to_string(h.flash_min_ms) +
                                                            " must not be less than hook.debounce_ms (" +
                                                            std::to_string(h.debounce_ms) + ")");
    }
    if (h.pulse_break_max_ms > 0 && h.pulse_break_max_ms >= h.flash_max_ms) {
      const toml::node* n = t->get("pulse_break_max_ms");
      return fail_at(n ? n->source() : t->source(), "hook.pulse_break_max_ms: " +
                                                        std::to_string(h.pulse_break_max_ms) +
                                                        " must be less than hook.flash_max_ms (" +
                                                        std::to_string(h.flash_max_ms) + ")");
    }
    return {};
  }

  Status parse_disconnect(const toml::table& root) {
    const toml::table* t = nullptr;
    if (auto r = section(root, "disconnect", t); !r) return r;
    if (t == nullptr) return {};
    DisconnectSignalling& d = p_.disconnect;
    if (auto r = get_bool(*t, "disconnect", "polarity_reversal", d.polarity_reversal); !r) return r;
    if (auto r = get_int(*t, "disconnect", "loop_drop_ms", 0, kMaxDurationMs, d.loop_drop_ms); !r) return r;
    return get_bool(*t, "disconnect", "busy_tone", d.busy_tone);
  }

  bool required_;
  ToneProfile p_;
};

std::vector<ToneProfile> load_built_ins() {
  std::vector<ToneProfile> out;
  for (const BuiltInProfileFile& f : kBuiltInFiles) {
    ProfileResult p = parse_tone_profile_text(f.text);
    if (!p) {
      // Unreachable when the unit tests pass: they parse every built-in file.
      std::fprintf(stderr, "sipline: built-in profile dsp/profiles/%.*s:%d:%d: %s\n", static_cast<int>(f.name.size()),
                   f.name.data(), p.error().line, p.error().column, p.error().message.c_str());
      std::abort();
    }
    out.push_back(std::move(*p));
  }
  return out;
}

const std::vector<ToneProfile>& profiles() {
  static const std::vector<ToneProfile> kProfiles = load_built_ins();
  return kProfiles;
}

}  // namespace

const char* toml_type_name(toml::node_type t) {
  switch (t) {
    case toml::node_type::none: return "nothing";
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a float";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::date: return "a date";
    case toml::node_type::time: return "a time";
    case toml::node_type::date_time: return "a date-time";
  }
  return "a value";
}

std::string_view to_string(CallerIdAlert alert) {
  switch (alert) {
    case CallerIdAlert::first_ring: return "first_ring";
    case CallerIdAlert::line_reversal: return "line_reversal";
    case CallerIdAlert::dt_as: return "dt_as";
    case CallerIdAlert::rp_as: return "rp_as";
    case CallerIdAlert::ntt_car: return "ntt_car";
  }
  return "first_ring";
}

std::optional<CallerIdAlert> caller_id_alert_from_string(std::string_view name) {
  for (CallerIdAlert a : kAlerts) {
    if (to_string(a) == name) return a;
  }
  return std::nullopt;
}

ProfileResult parse_tone_profile(const toml::table& t, const ToneProfile* base) {
  return ProfileParser(base).parse(t);
}

ProfileResult parse_tone_profile_text(std::string_view toml_text, const ToneProfile* base) {
  toml::table t;
  try {
    t = toml::parse(toml_text);
  } catch (const toml::parse_error& e) {
    return tl::unexpected<ProfileError>(ProfileError{"TOML syntax: " + std::string(e.description()),
                                                     static_cast<int>(e.source().begin.line),
                                                     static_cast<int>(e.source().begin.column)});
  }
  return parse_tone_profile(t, base);
}

std::span<const BuiltInProfileFile> built_in_profile_files() { return kBuiltInFiles; }

const ToneSpec& ToneProfile::tone(ToneKind kind) const {
  static const ToneSpec kNone;
  switch (kind) {
    case ToneKind::none: return kNone;
    case ToneKind::dial: return dial;
    case ToneKind::ringback: return ringback;
    case ToneKind::busy: return busy;
    case ToneKind::congestion: return congestion;
    case ToneKind::call_waiting: return call_waiting;
    case ToneKind::stutter_dial: return stutter_dial;
    case ToneKind::special_information: return special_information;
    case ToneKind::howler: return howler;
  }
  return kNone;
}

const ToneProfile* find_tone_profile(std::string_view country) {
  // "GB" is the ISO 3166 code of the United Kingdom; accept it beside "UK".
  if (iequals(country, "GB")) country = "UK";
  for (const ToneProfile& p : profiles()) {
    if (iequals(p.country, country)) return &p;
  }
  return nullptr;
}

std::vector<std::string> tone_profile_names() {
  std::vector<std::string> names;
  for (const ToneProfile& p : profiles()) names.push_back(p.country);
  return names;
}

}  // namespace sipline::dsp
