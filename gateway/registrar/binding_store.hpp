#pragma once
// BindingStore: the location service's storage (RFC 3261 §10.3), in SQLite.
//
// What it does
//   Keeps, per address-of-record (AOR, the registering user), the contacts
//   that REGISTER requests bound to it, and applies a REGISTER with the rules
//   of RFC 3261 §10.3 steps 6-8, all or nothing (one transaction):
//   - each contact's expiry comes from its expires parameter, else the
//     Expires header, else default_expires; above max_expires it is
//     shortened; a non-zero expiry below min_expires fails the request with
//     interval_too_brief (423, answer with Min-Expires: min_expires);
//   - a contact is matched to an existing binding by its +sip.instance when it
//     has one (RFC 5627 §5.2; the binding's URI is then replaced), else by its
//     URI as a string: the SIP layer passes URIs in one canonical form;
//   - same Call-ID as the binding with a CSeq not above the binding's ->
//     out_of_order (the whole request fails, nothing changes); a different
//     Call-ID replaces the binding (the UA rebooted);
//   - expires 0 removes the binding; Contact '*' (with Expires: 0 and no
//     other contact, else invalid_request) removes all bindings of the AOR,
//     with the same Call-ID/CSeq rule;
//   - more than max_bindings_per_aor live bindings -> too_many;
//   - it returns the AOR's bindings after the change (for the 200 OK).
//   Expired bindings are invisible to lookup() and all(), are removed for an
//   AOR when a REGISTER for it is applied, and all at once by purge_expired()
//   (call it from a periodic timer).
//
// Time: expiry instants are wall-clock (std::chrono::system_clock) from the
// injected WallClock and stored as Unix milliseconds, so bindings keep their
// meaning across a restart or a reboot (base::Clock is steady_clock, whose
// epoch is the boot).
//
// Storage: one SQLite file (or ":memory:" in tests) with a schema_version
// table, WAL journal, synchronous=NORMAL, prepared statements reused. Opening
// a file that is not a SQLite database, is damaged (quick_check), holds
// another program's tables or a newer schema, or cannot be opened or
// created, gives a typed error, never a crash. Writes are synchronous on the
// caller's thread: a REGISTER costs one small transaction.
//
// Thread: control. One BindingStore per file, used by one thread.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sipline/base/result.hpp"

namespace sipline::gateway::registrar {

enum class BindingError {
  out_of_order = 1,    // same Call-ID, CSeq not above the binding's (500 per RFC 3261 §10.3 step 7)
  too_many,            // more than max_bindings_per_aor (403 or 503; the integrator's choice)
  interval_too_brief,  // 423 with Min-Expires
  invalid_request,     // '*' with other contacts or a non-zero Expires, empty AOR/contact, bad q (400)
  open_failed,         // the file cannot be opened or created (permissions, directory missing)
  corrupt,             // not a SQLite database, or damaged
  unsupported_schema,  // another program's database, or a newer sipline schema
  storage,             // a statement failed at run time (disk full, I/O error, busy)
};

using WallTime = std::chrono::system_clock::time_point;

// Wall-clock time, injected so that tests can expire bindings without sleeping.
class WallClock {
 public:
  virtual ~WallClock() = default;
  virtual WallTime now() const = 0;
};

class SystemWallClock final : public WallClock {
 public:
  WallTime now() const override { return std::chrono::system_clock::now(); }
};

// RFC 3261 §20.10 qvalue in thousandths: "0.5" -> 500, "1" -> 1000.
// Accepts 0, 1, 0.d, 0.dd, 0.ddd, 1.0, 1.00, 1.000 (also "0." and "1.").
base::Result<int> parse_qvalue(std::string_view text);
// 1000 -> "1", 500 -> "0.5", 25 -> "0.025".
std::string format_qvalue(int q_milli);

struct Binding {
  std::string aor;             // the user, e.g. "alice"
  std::string contact;         // contact URI, e.g. "sip:alice@192.0.2.7:5062;transport=udp"
  int q_milli = 1000;          // q-value in thousandths, 0..1000
  WallTime expires_at;         // absolute, millisecond precision
  std::string call_id;
  std::uint32_t cseq = 0;
  std::string source_address;  // where the REGISTER came from, "192.0.2.7:5062" or "[2001:db8::1]:5060"
  std::string transport;       // "udp", "tcp", "tls", ...
  std::string user_agent;      // User-Agent header, may be empty
  std::string instance_id;     // +sip.instance (RFC 5626), empty when none
};

// One Contact of a REGISTER.
struct ContactUpdate {
  std::string uri;
  std::optional<std::chrono::seconds> expires;  // the contact's expires parameter
  int q_milli = 1000;
  std::string instance_id;
};

struct RegisterRequest {
  std::string aor;
  std::string call_id;
  std::uint32_t cseq = 0;
  std::optional<std::chrono::seconds> expires;  // the Expires header
  bool wildcard = false;                        // Contact: *
  std::vector<ContactUpdate> contacts;          // empty and !wildcard: a query
  std::string source_address;
  std::string transport;
  std::string user_agent;
};

struct BindingStoreOptions {
  std::string path = ":memory:";
  std::size_t max_bindings_per_aor = 10;
  std::chrono::seconds min_expires{60};
  std::chrono::seconds max_expires{3600};
  std::chrono::seconds default_expires{3600};
};

class BindingStore {
 public:
  // Opens or creates the database. The clock must outlive the store.
  static base::Result<BindingStore> open(const BindingStoreOptions& options, const WallClock& clock);

  BindingStore(BindingStore&&) noexcept;
  BindingStore& operator=(BindingStore&&) noexcept;
  ~BindingStore();

  // Applies a REGISTER; returns the AOR's live bindings afterwards, q desc.
  base::Result<std::vector<Binding>> apply(const RegisterRequest& request);
  // Live bindings of one AOR, highest q first (then the latest expiry first).
  base::Result<std::vector<Binding>> lookup(std::string_view aor);
  // Every live binding, by AOR then as lookup() orders them (`siplinectl users`).
  base::Result<std::vector<Binding>> all();
  // Deletes expired bindings; returns how many.
  base::Result<std::size_t> purge_expired();

  const BindingStoreOptions& options() const;

 private:
  struct Db;
  explicit BindingStore(std::unique_ptr<Db> db);
  std::unique_ptr<Db> db_;
};

}  // namespace sipline::gateway::registrar
