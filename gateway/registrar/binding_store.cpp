// BindingStore on SQLite: schema, opening checks, REGISTER semantics (see
// binding_store.hpp).
#include "registrar/binding_store.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <set>
#include <utility>

#include "sipline/base/c_ptr.hpp"

namespace sipline::gateway::registrar {
namespace {

constexpr int kSchemaVersion = 1;

using SqliteDb = base::CPtr<sqlite3, sqlite3_close_v2>;
using SqliteStmt = base::CPtr<sqlite3_stmt, sqlite3_finalize>;

base::Error sqlite_error(sqlite3* db, int rc, std::string_view what) {
  const int primary = rc & 0xff;
  std::string message = std::string(what) + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  if (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB) return base::Error(BindingError::corrupt, message);
  return base::Error(BindingError::storage, message);
}

std::int64_t to_ms(WallTime t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

WallTime from_ms(std::int64_t ms) {
  return WallTime(std::chrono::duration_cast<WallTime::duration>(std::chrono::milliseconds(ms)));
}

// One use of a prepared statement: binds, steps, and resets on scope exit.
class Use {
 public:
  Use(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  ~Use() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  Use(const Use&) = delete;
  Use& operator=(const Use&) = delete;

  Use& text(int index, std::string_view value) {
    if (rc_ == SQLITE_OK) {
      rc_ = sqlite3_bind_text(stmt_, index, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
    }
    return *this;
  }
  Use& integer(int index, std::int64_t value) {
    if (rc_ == SQLITE_OK) rc_ = sqlite3_bind_int64(stmt_, index, value);
    return *this;
  }
  // true: a row is ready; false: done. Errors end up in error().
  bool row() {
    if (rc_ != SQLITE_OK && rc_ != SQLITE_ROW) return false;
    rc_ = sqlite3_step(stmt_);
    if (rc_ == SQLITE_ROW) return true;
    if (rc_ == SQLITE_DONE) rc_ = SQLITE_OK;
    return false;
  }
  bool ok() const { return rc_ == SQLITE_OK || rc_ == SQLITE_ROW; }
  base::Error error(std::string_view what) const { return sqlite_error(db_, rc_, what); }

  std::string column_text(int i) const {
    const auto* p = sqlite3_column_text(stmt_, i);
    return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(stmt_, i)))
             : std::string();
  }
  std::int64_t column_int(int i) const { return sqlite3_column_int64(stmt_, i); }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
  int rc_ = SQLITE_OK;
};

base::Result<void> exec(sqlite3* db, const char* sql, std::string_view what) {
  char* message = nullptr;
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, &message);
  if (message) sqlite3_free(message);
  if (rc != SQLITE_OK) return tl::unexpected(sqlite_error(db, rc, what));
  return {};
}

constexpr const char* kColumns =
    "aor, contact, q, expires_at, call_id, cseq, source_address, transport, user_agent, instance_id";

Binding read_binding(const Use& u) {
  Binding b;
  b.aor = u.column_text(0);
  b.contact = u.column_text(1);
  b.q_milli = static_cast<int>(u.column_int(2));
  b.expires_at = from_ms(u.column_int(3));
  b.call_id = u.column_text(4);
  b.cseq = static_cast<std::uint32_t>(u.column_int(5));
  b.source_address = u.column_text(6);
  b.transport = u.column_text(7);
  b.user_agent = u.column_text(8);
  b.instance_id = u.column_text(9);
  return b;
}

}  // namespace

base::Result<int> parse_qvalue(std::string_view text) {
  auto bad = [&] { return base::fail(BindingError::invalid_request, "bad q-value '" + std::string(text.substr(0, 16)) + "'"); };
  if (text.empty() || text.size() > 5 || (text[0] != '0' && text[0] != '1')) return bad();
  int whole = text[0] - '0';
  int milli = 0;
  if (text.size() > 1) {
    if (text[1] != '.') return bad();
    int scale = 100;
    for (char c : text.substr(2)) {
      if (c < '0' || c > '9') return bad();
      milli += (c - '0') * scale;
      scale /= 10;
    }
  }
  if (whole == 1 && milli != 0) return bad();
  return whole * 1000 + milli;
}

std::string format_qvalue(int q_milli) {
  q_milli = std::clamp(q_milli, 0, 1000);
  if (q_milli == 1000) return "1";
  if (q_milli == 0) return "0";
  std::string digits = std::to_string(1000 + q_milli).substr(1);  // three digits
  while (digits.back() == '0') digits.pop_back();
  return "0." + digits;
}

struct BindingStore::Db {
  class Transaction;
  BindingStoreOptions options;
  const WallClock* clock = nullptr;
  SqliteDb handle;  // declared first: closed after the statements are finalized
  SqliteStmt begin, commit, rollback, select_aor, select_all, delete_expired_aor, delete_expired, find_contact,
      find_instance, delete_contact, delete_aor, upsert, count_aor;

  sqlite3* db() const { return handle.get(); }

  base::Result<SqliteStmt> prepare(const std::string& sql) {
    sqlite3_stmt* raw = nullptr;
    const int rc = sqlite3_prepare_v3(db(), sql.c_str(), static_cast<int>(sql.size()) + 1, SQLITE_PREPARE_PERSISTENT,
                                      &raw, nullptr);
    SqliteStmt stmt(raw);
    if (rc != SQLITE_OK) return tl::unexpected(sqlite_error(db(), rc, "prepare"));
    return stmt;
  }

  base::Result<void> prepare_all() {
    const std::string cols = kColumns;
    const std::pair<SqliteStmt*, std::string> all[] = {
        {&begin, "BEGIN IMMEDIATE"},
        {&commit, "COMMIT"},
        {&rollback, "ROLLBACK"},
        {&select_aor, "SELECT " + cols + " FROM bindings WHERE aor = ?1 AND expires_at > ?2 "
                      "ORDER BY q DESC, expires_at DESC, contact"},
        {&select_all, "SELECT " + cols + " FROM bindings WHERE expires_at > ?1 "
                      "ORDER BY aor, q DESC, expires_at DESC, contact"},
        {&delete_expired_aor, "DELETE FROM bindings WHERE aor = ?1 AND expires_at <= ?2"},
        {&delete_expired, "DELETE FROM bindings WHERE expires_at <= ?1"},
        {&find_contact, "SELECT contact, call_id, cseq FROM bindings WHERE aor = ?1 AND contact = ?2"},
        {&find_instance, "SELECT contact, call_id, cseq FROM bindings WHERE aor = ?1 AND instance_id = ?2"},
        {&delete_contact, "DELETE FROM bindings WHERE aor = ?1 AND contact = ?2"},
        {&delete_aor, "DELETE FROM bindings WHERE aor = ?1"},
        {&upsert, "INSERT OR REPLACE INTO bindings (" + cols + ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"},
        {&count_aor, "SELECT count(*) FROM bindings WHERE aor = ?1"},
    };
    for (const auto& [slot, sql] : all) {
      auto stmt = prepare(sql);
      if (!stmt) return tl::unexpected(stmt.error());
      *slot = std::move(*stmt);
    }
    return {};
  }

  base::Result<void> run(sqlite3_stmt* stmt, std::string_view what) {
    Use u(db(), stmt);
    while (u.row()) {
    }
    if (!u.ok()) return tl::unexpected(u.error(what));
    return {};
  }

  base::Result<std::vector<Binding>> select(sqlite3_stmt* stmt, std::optional<std::string_view> aor) {
    Use u(db(), stmt);
    const std::int64_t now = to_ms(clock->now());
    if (aor) {
      u.text(1, *aor).integer(2, now);
    } else {
      u.integer(1, now);
    }
    std::vector<Binding> out;
    while (u.row()) out.push_back(read_binding(u));
    if (!u.ok()) return tl::unexpected(u.error("select bindings"));
    return out;
  }

  base::Result<void> create_or_check_schema() {
    // Which tables exist?
    auto list = prepare("SELECT name FROM sqlite_master WHERE type = 'table'");
    if (!list) return tl::unexpected(list.error());
    std::set<std::string> tables;
    {
      Use u(db(), list->get());
      while (u.row()) tables.insert(u.column_text(0));
      if (!u.ok()) return tl::unexpected(u.error("read schema"));
    }
    if (tables.count("schema_version")) {
      auto version = prepare("SELECT version FROM schema_version");
      if (!version) return tl::unexpected(version.error());
      Use u(db(), version->get());
      if (!u.row()) {
        if (!u.ok()) return tl::unexpected(u.error("read schema version"));
        return tl::unexpected(base::Error(BindingError::unsupported_schema, "schema_version table is empty"));
      }
      const auto v = u.column_int(0);
      if (v != kSchemaVersion || !tables.count("bindings")) {
        return tl::unexpected(base::Error(BindingError::unsupported_schema,
                                          "bindings database has schema version " + std::to_string(v) +
                                              ", this sipline knows version " + std::to_string(kSchemaVersion)));
      }
      return {};
    }
    if (!tables.empty()) {
      return tl::unexpected(base::Error(BindingError::unsupported_schema,
                                        "the file is a SQLite database of another program (no schema_version table)"));
    }
    return exec(db(),
                "BEGIN;"
                "CREATE TABLE schema_version (version INTEGER NOT NULL);"
                "INSERT INTO schema_version (version) VALUES (1);"
                "CREATE TABLE bindings ("
                "  aor TEXT NOT NULL, contact TEXT NOT NULL, q INTEGER NOT NULL, expires_at INTEGER NOT NULL,"
                "  call_id TEXT NOT NULL, cseq INTEGER NOT NULL, source_address TEXT NOT NULL,"
                "  transport TEXT NOT NULL, user_agent TEXT NOT NULL, instance_id TEXT NOT NULL,"
                "  PRIMARY KEY (aor, contact));"
                "CREATE INDEX bindings_expires_at ON bindings (expires_at);"
                "CREATE INDEX bindings_instance ON bindings (aor, instance_id);"
                "COMMIT;",
                "create schema");
  }
};

// Rolls the transaction back unless commit() succeeded.
class BindingStore::Db::Transaction {
 public:
  explicit Transaction(Db& db) : db_(db) {}
  ~Transaction() {
    if (open_) (void)db_.run(db_.rollback.get(), "rollback");
  }
  base::Result<void> begin() {
    auto r = db_.run(db_.begin.get(), "begin");
    open_ = r.has_value();
    return r;
  }
  base::Result<void> commit() {
    auto r = db_.run(db_.commit.get(), "commit");
    if (r) open_ = false;
    return r;
  }

 private:
  Db& db_;
  bool open_ = false;
};

BindingStore::BindingStore(std::unique_ptr<Db> db) : db_(std::move(db)) {}
BindingStore::BindingStore(BindingStore&&) noexcept = default;
BindingStore& BindingStore::operator=(BindingStore&&) noexcept = default;
BindingStore::~BindingStore() = default;

const BindingStoreOptions& BindingStore::options() const { return db_->options; }

base::Result<BindingStore> BindingStore::open(const BindingStoreOptions& options, const WallClock& clock) {
  if (options.max_bindings_per_aor == 0) return base::fail(BindingError::invalid_request, "max_bindings_per_aor is 0");
  if (options.min_expires.count() < 0 || options.max_expires < options.min_expires ||
      options.default_expires < options.min_expires || options.default_expires > options.max_expires) {
    return base::fail(BindingError::invalid_request, "need 0 <= min_expires <= default_expires <= max_expires");
  }
  auto db = std::make_unique<Db>();
  db->options = options;
  db->clock = &clock;
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(options.path.c_str(), &raw,
                                 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  db->handle.reset(raw);
  if (rc != SQLITE_OK) {
    return base::fail(BindingError::open_failed, "cannot open bindings database " + options.path + ": " +
                                                     (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
  }
  if (sqlite3_db_readonly(raw, "main") == 1) {
    return base::fail(BindingError::open_failed, "bindings database " + options.path + " is read-only");
  }
  auto where = [&](base::Error e) {
    return tl::unexpected(base::Error(static_cast<BindingError>(e.code()), options.path + ": " + e.message()));
  };
  // Damage shows here: "file is not a database", or quick_check's findings.
  {
    auto check = db->prepare("PRAGMA quick_check");
    if (!check) return where(check.error());
    Use u(raw, check->get());
    std::string first;
    if (u.row()) first = u.column_text(0);
    if (!u.ok()) return where(u.error("quick_check"));
    if (first != "ok") return where(base::Error(BindingError::corrupt, "database is damaged: " + first));
  }
  if (auto r = exec(raw, "PRAGMA journal_mode=WAL", "journal_mode"); !r) return where(r.error());
  if (auto r = exec(raw, "PRAGMA synchronous=NORMAL", "synchronous"); !r) return where(r.error());
  if (auto r = db->create_or_check_schema(); !r) return where(r.error());
  if (auto r = db->prepare_all(); !r) return where(r.error());
  return BindingStore(std::move(db));
}

base::Result<std::vector<Binding>> BindingStore::lookup(std::string_view aor) {
  return db_->select(db_->select_aor.get(), aor);
}

base::Result<std::vector<Binding>> BindingStore::all() { return db_->select(db_->select_all.get(), std::nullopt); }

base::Result<std::size_t> BindingStore::purge_expired() {
  Use u(db_->db(), db_->delete_expired.get());
  u.integer(1, to_ms(db_->clock->now()));
  while (u.row()) {
  }
  if (!u.ok()) return tl::unexpected(u.error("purge expired bindings"));
  return static_cast<std::size_t>(sqlite3_changes(db_->db()));
}

base::Result<std::vector<Binding>> BindingStore::apply(const RegisterRequest& request) {
  const auto& opt = db_->options;
  if (request.aor.empty()) return base::fail(BindingError::invalid_request, "empty address-of-record");
  if (request.wildcard) {
    if (!request.contacts.empty()) return base::fail(BindingError::invalid_request, "Contact '*' with other contacts");
    if (!request.expires || request.expires->count() != 0) {
      return base::fail(BindingError::invalid_request, "Contact '*' needs Expires: 0");
    }
  }
  // RFC 3261 §10.3 step 6 (Min-Expires, shortening) before anything changes.
  const auto now = std::chrono::time_point_cast<std::chrono::milliseconds>(db_->clock->now());
  std::vector<std::chrono::seconds> expiry;
  expiry.reserve(request.contacts.size());
  for (const auto& c : request.contacts) {
    if (c.uri.empty()) return base::fail(BindingError::invalid_request, "empty contact URI");
    if (c.q_milli < 0 || c.q_milli > 1000) return base::fail(BindingError::invalid_request, "q-value out of 0..1");
    auto e = c.expires ? *c.expires : request.expires ? *request.expires : opt.default_expires;
    if (e.count() < 0) return base::fail(BindingError::invalid_request, "negative expires");
    if (e.count() > 0 && e < opt.min_expires) {
      return base::fail(BindingError::interval_too_brief,
                        "expires " + std::to_string(e.count()) + " below Min-Expires " +
                            std::to_string(opt.min_expires.count()));
    }
    expiry.push_back(std::min(e, opt.max_expires));
  }

  sqlite3* db = db_->db();
  Db::Transaction tx(*db_);
  if (auto r = tx.begin(); !r) return tl::unexpected(r.error());
  {
    Use u(db, db_->delete_expired_aor.get());
    u.text(1, request.aor).integer(2, to_ms(now));
    while (u.row()) {
    }
    if (!u.ok()) return tl::unexpected(u.error("delete expired bindings"));
  }

  auto out_of_order = [&](const std::string& contact) {
    return base::fail(BindingError::out_of_order, "CSeq " + std::to_string(request.cseq) +
                                                      " not above the binding's for " + contact + " (Call-ID " +
                                                      request.call_id + ")");
  };

  if (request.wildcard) {
    auto current = db_->select(db_->select_aor.get(), request.aor);
    if (!current) return tl::unexpected(current.error());
    for (const auto& b : *current) {
      if (b.call_id == request.call_id && request.cseq <= b.cseq) return out_of_order(b.contact);
    }
    Use u(db, db_->delete_aor.get());
    u.text(1, request.aor);
    while (u.row()) {
    }
    if (!u.ok()) return tl::unexpected(u.error("delete bindings"));
  }

  std::set<std::string> written;  // contacts this request already wrote
  for (std::size_t i = 0; i < request.contacts.size(); ++i) {
    const auto& c = request.contacts[i];
    struct Existing {
      std::string contact, call_id;
      std::uint32_t cseq;
    };
    std::optional<Existing> existing;
    auto find = [&](sqlite3_stmt* stmt, std::string_view key) -> base::Result<void> {
      Use u(db, stmt);
      u.text(1, request.aor).text(2, key);
      if (u.row()) {
        existing = Existing{u.column_text(0), u.column_text(1), static_cast<std::uint32_t>(u.column_int(2))};
      }
      if (!u.ok()) return tl::unexpected(u.error("find binding"));
      return {};
    };
    if (!c.instance_id.empty()) {
      if (auto r = find(db_->find_instance.get(), c.instance_id); !r) return tl::unexpected(r.error());
    }
    if (!existing) {
      if (auto r = find(db_->find_contact.get(), c.uri); !r) return tl::unexpected(r.error());
    }
    if (existing && !written.count(existing->contact) && existing->call_id == request.call_id &&
        request.cseq <= existing->cseq) {
      return out_of_order(existing->contact);
    }
    if (existing && (expiry[i].count() == 0 || existing->contact != c.uri)) {
      Use u(db, db_->delete_contact.get());
      u.text(1, request.aor).text(2, existing->contact);
      while (u.row()) {
      }
      if (!u.ok()) return tl::unexpected(u.error("delete binding"));
    }
    if (expiry[i].count() == 0) continue;
    Use u(db, db_->upsert.get());
    u.text(1, request.aor)
        .text(2, c.uri)
        .integer(3, c.q_milli)
        .integer(4, to_ms(now + expiry[i]))
        .text(5, request.call_id)
        .integer(6, request.cseq)
        .text(7, request.source_address)
        .text(8, request.transport)
        .text(9, request.user_agent)
        .text(10, c.instance_id);
    while (u.row()) {
    }
    if (!u.ok()) return tl::unexpected(u.error("store binding"));
    written.insert(c.uri);
  }

  {
    Use u(db, db_->count_aor.get());
    u.text(1, request.aor);
    const std::int64_t count = u.row() ? u.column_int(0) : 0;
    if (!u.ok()) return tl::unexpected(u.error("count bindings"));
    if (static_cast<std::size_t>(count) > opt.max_bindings_per_aor) {
      return base::fail(BindingError::too_many, "more than " + std::to_string(opt.max_bindings_per_aor) +
                                                    " bindings for " + request.aor);
    }
  }
  if (auto r = tx.commit(); !r) return tl::unexpected(r.error());
  return lookup(request.aor);
}

}  // namespace sipline::gateway::registrar
