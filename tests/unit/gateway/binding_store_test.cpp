// Unit tests of gateway/registrar/binding_store: RFC 3261 §10.3 REGISTER
// semantics on ":memory:", expiry on a fake wall clock, and the file checks.
#include "registrar/binding_store.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

namespace sipline::gateway::registrar {
namespace {

using namespace std::chrono_literals;

class FakeWallClock final : public WallClock {
 public:
  WallTime now() const override { return now_; }
  void advance(std::chrono::milliseconds by) { now_ += by; }

 private:
  WallTime now_ = WallTime(std::chrono::seconds(1'800'000'000));
};

ContactUpdate contact(std::string uri, std::optional<std::chrono::seconds> expires = std::nullopt, int q = 1000,
                      std::string instance = {}) {
  return ContactUpdate{.uri = std::move(uri), .expires = expires, .q_milli = q, .instance_id = std::move(instance)};
}

RegisterRequest reg(std::string aor, std::string call_id, std::uint32_t cseq, std::vector<ContactUpdate> contacts,
                    std::optional<std::chrono::seconds> expires = std::nullopt) {
  return RegisterRequest{.aor = std::move(aor),
                         .call_id = std::move(call_id),
                         .cseq = cseq,
                         .expires = expires,
                         .wildcard = false,
                         .contacts = std::move(contacts),
                         .source_address = "192.0.2.7:5062",
                         .transport = "udp",
                         .user_agent = "baresip"};
}

std::vector<std::string> contacts_of(const std::vector<Binding>& bindings) {
  std::vector<std::string> out;
  for (const auto& b : bindings) out.push_back(b.contact);
  return out;
}

class BindingStoreTest : public ::testing::Test {
 protected:
  BindingStore open(BindingStoreOptions options = {}) {
    auto s = BindingStore::open(options, clock_);
    EXPECT_TRUE(s.has_value()) << s.error().message();
    return std::move(*s);
  }
  FakeWallClock clock_;
};

TEST_F(BindingStoreTest, RegisterStoresEveryFieldAndLookupReturnsIt) {
  auto store = open();
  auto r = store.apply(reg("alice", "cid-1@host", 7, {contact("sip:alice@192.0.2.7:5062", 600s, 500, "<urn:uuid:1>")}));
  ASSERT_TRUE(r.has_value()) << r.error().message();
  ASSERT_EQ(r->size(), 1u);
  const Binding& b = (*r)[0];
  EXPECT_EQ(b.aor, "alice");
  EXPECT_EQ(b.contact, "sip:alice@192.0.2.7:5062");
  EXPECT_EQ(b.q_milli, 500);
  EXPECT_EQ(b.expires_at, clock_.now() + 600s);
  EXPECT_EQ(b.call_id, "cid-1@host");
  EXPECT_EQ(b.cseq, 7u);
  EXPECT_EQ(b.source_address, "192.0.2.7:5062");
  EXPECT_EQ(b.transport, "udp");
  EXPECT_EQ(b.user_agent, "baresip");
  EXPECT_EQ(b.instance_id, "<urn:uuid:1>");
  auto looked = store.lookup("alice");
  ASSERT_TRUE(looked.has_value());
  ASSERT_EQ(looked->size(), 1u);
  EXPECT_EQ((*looked)[0].contact, b.contact);
  EXPECT_TRUE(store.lookup("bob")->empty());
}

TEST_F(BindingStoreTest, LookupOrdersByQDescending) {
  auto store = open();
  ASSERT_TRUE(store.apply(reg("alice", "c", 1,
                              {contact("sip:a@1", 600s, 100), contact("sip:a@2", 600s, 900), contact("sip:a@3", 600s, 1000),
                               contact("sip:a@4", 600s, 0)})));
  EXPECT_EQ(contacts_of(*store.lookup("alice")), (std::vector<std::string>{"sip:a@3", "sip:a@2", "sip:a@1", "sip:a@4"}));
}

TEST_F(BindingStoreTest, ExpiryComesFromContactThenHeaderThenDefaultAndIsCapped) {
  auto store = open({.min_expires = 60s, .max_expires = 3600s, .default_expires = 1800s});
  auto r = store.apply(reg("alice", "c", 1,
                           {contact("sip:a@param", 120s), contact("sip:a@header"), contact("sip:a@capped", 99999s)},
                           300s));
  ASSERT_TRUE(r.has_value()) << r.error().message();
  std::map<std::string, WallTime> at;
  for (const auto& b : *r) at[b.contact] = b.expires_at;
  EXPECT_EQ(at["sip:a@param"], clock_.now() + 120s);
  EXPECT_EQ(at["sip:a@header"], clock_.now() + 300s);
  EXPECT_EQ(at["sip:a@capped"], clock_.now() + 3600s);
  auto d = store.apply(reg("bob", "c", 1, {contact("sip:b@default")}));
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ((*d)[0].expires_at, clock_.now() + 1800s);
}

TEST_F(BindingStoreTest, ExpiryBelowMinimumIsIntervalTooBrief) {
  auto store = open({.min_expires = 60s});
  auto r = store.apply(reg("alice", "c", 1, {contact("sip:a@1", 30s)}));
  ASSERT_FALSE(r.has_value());
  EXPECT_TRUE(r.error().is(BindingError::interval_too_brief));
  EXPECT_TRUE(store.lookup("alice")->empty());
}

TEST_F(BindingStoreTest, ExpiredBindingsAreHiddenThenPurged) {
  auto store = open();
  ASSERT_TRUE(store.apply(reg("alice", "c", 1, {contact("sip:a@short", 60s), contact("sip:a@long", 600s)})));
  ASSERT_TRUE(store.apply(reg("bob", "c", 1, {contact("sip:b@short", 60s)})));
  clock_.advance(59s);
  EXPECT_EQ(store.lookup("alice")->size(), 2u);
  clock_.advance(1s);  // expires_at is exclusive
  EXPECT_EQ(contacts_of(*store.lookup("alice")), std::vector<std::string>{"sip:a@long"});
  EXPECT_EQ(store.all()->size(), 1u);
  auto purged = store.purge_expired();
  ASSERT_TRUE(purged.has_value());
  EXPECT_EQ(*purged, 2u);
  EXPECT_EQ(*store.purge_expired(), 0u);
}

TEST_F(BindingStoreTest, ExpiresZeroRemovesOneContact) {
  auto store = open();
  ASSERT_TRUE(store.apply(reg("alice", "c", 1, {contact("sip:a@1", 600s), contact("sip:a@2", 600s)})));
  auto r = store.apply(reg("alice", "c", 2, {contact("sip:a@1", 0s)}));
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(contacts_of(*r), std::vector<std::string>{"sip:a@2"});
  // Removing an unknown contact is not an error.
  EXPECT_TRUE(store.apply(reg("alice", "c", 3, {contact("sip:a@9", 0s)})).has_value());
}

TEST_F(BindingStoreTest, WildcardWithExpiresZeroRemovesAll) {
  auto store = open();
  ASSERT_TRUE(store.apply(reg("alice", "c1", 1, {contact("sip:a@1", 600s)})));
  ASSERT_TRUE(store.apply(reg("alice", "c2", 1, {contact("sip:a@2", 600s)})));
  ASSERT_TRUE(store.apply(reg("bob", "c3", 1, {contact("sip:b@1", 600s)})));
  auto req = reg("alice", "c1", 2, {}, 0s);
  req.wildcard = true;
  auto r = store.apply(req);
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_TRUE(r->empty());
  EXPECT_TRUE(store.lookup("alice")->empty());
  EXPECT_EQ(store.lookup("bob")->size(), 1u);
}

TEST_F(BindingStoreTest, WildcardNeedsExpiresZeroAndNoOtherContact) {
  auto store = open();
  auto no_expires = reg("alice", "c", 1, {});
  no_expires.wildcard = true;
  auto r = store.apply(no_expires);
  ASSERT_FALSE(r.has_value());
  EXPECT_TRUE(r.error().is(BindingError::invalid_request));
  auto nonzero = reg("alice", "c", 1, {}, 60s);
  nonzero.wildcard = true;
  EXPECT_TRUE(store.apply(nonzero).error().is(BindingError::invalid_request));
  auto mixed = reg("alice", "c", 1, {contact("sip:a@1")}, 0s);
  mixed.wildcard = true;
  EXPECT_TRUE(store.apply(mixed).error().is(BindingError::invalid_request));
}

TEST_F(BindingStoreTest, WildcardWithOldCSeqOfSameCallIdIsOutOfOrder) {
  auto store = open();
  ASSERT_TRUE(store.apply(reg("alice", "c1", 5, {contact("sip:a@1", 600s)})));
  auto req = reg("alice", "c1", 5, {}, 0s);
  req.wildcard = true;
  auto r = store.apply(req);
  ASSERT_FALSE(r.has_value());
  EXPECT_TRUE(r.error().is(BindingError::out_of_order));
  EXPECT_EQ(store.lookup("alice")->size(), 1u);
}

TEST_F(BindingStoreTest, SameCallIdWithLowerOrEqualCSeqIsOutOfOrder) {
  auto store = open();
  ASSERT_TRUE(store.apply(reg("alice", "c1", 10, {contact("sip:a@1", 600s)})));
  for (std::uint32_t cseq : {10u, 9u, 1u}) {
    auto r = store.apply(reg("alice", "c1", cseq, {contact("sip:a@1", 300s)}));
    ASSERT_FALSE(r.has_value()) << cseq;
    EXPECT_TRUE(r.error().is(BindingError::out_of_order)) << r.error().message();
  }
  EXPECT_EQ((*store.lookup("alice"))[0].expires_at, clock_.now() + 600s);
  auto r = store.apply(reg("alice", "c1", 11, {contact("sip:a@1", 300s)}));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ((*r)[0].expires_at, clock_.now() + 300s);
  EXPECT_EQ((*r)[0].cseq, 11u);
}

TEST_F(BindingStoreTest, FailedRequestChangesNothing) {
  auto store = open();
  ASSERT_TRUE(store.apply(reg("alice", "c1", 10, {contact("sip:a@1", 600s)})));
  // The first contact is new and would be added, the second is out of order.
  auto r = store.apply(reg("alice", "c1", 3, {contact("sip:a@new", 600s), contact("sip:a@1", 0s)}));
  ASSERT_FALSE(r.has_value());
  EXPECT_TRUE(r.error().is(BindingError::out_of_order));
  EXPECT_EQ(contacts_of(*store.lookup("alice")), std::vector<std::string>{"sip:a@1"});
}

TEST_F(BindingStoreTest, DifferentCallIdReplacesTheBinding) {
  auto store = open();
  ASSERT_TRUE(store.apply(reg("alice", "before-reboot", 50, {contact("sip:a@1", 600s, 1000)})));
  auto r = store.apply(reg("alice", "after-reboot", 1, {contact("sip:a@1", 120s, 300)}));
  ASSERT_TRUE(r.has_value()) << r.error().message();
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].call_id, "after-reboot");
  EXPECT_EQ((*r)[0].cseq, 1u);
  EXPECT_EQ((*r)[0].q_milli, 300);
  EXPECT_EQ((*r)[0].expires_at, clock_.now() + 120s);
}

TEST_F(BindingStoreTest, SameInstanceIdReplacesAContactWithANewUri) {
  auto store = open();
  ASSERT_TRUE(store.apply(reg("alice", "c1", 1, {contact("sip:a@10.0.0.1", 600s, 1000, "<urn:uuid:x>")})));
  ASSERT_TRUE(store.apply(reg("alice", "c1", 2, {contact("sip:a@10.0.0.9", 600s, 1000, "<urn:uuid:y>")})));
  auto r = store.apply(reg("alice", "c2", 1, {contact("sip:a@10.0.0.2", 600s, 1000, "<urn:uuid:x>")}));
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(contacts_of(*r), (std::vector<std::string>{"sip:a@10.0.0.2", "sip:a@10.0.0.9"}));
}

TEST_F(BindingStoreTest, TooManyBindingsPerAorIsRefusedAtomically) {
  auto store = open({.max_bindings_per_aor = 3});
  ASSERT_TRUE(store.apply(reg("alice", "c", 1, {contact("sip:a@1", 60s), contact("sip:a@2", 600s)})));
  auto r = store.apply(reg("alice", "c", 2, {contact("sip:a@3", 600s), contact("sip:a@4", 600s)}));
  ASSERT_FALSE(r.has_value());
  EXPECT_TRUE(r.error().is(BindingError::too_many)) << r.error().message();
  EXPECT_EQ(store.lookup("alice")->size(), 2u);
  // Expired bindings do not count.
  clock_.advance(61s);
  auto later = store.apply(reg("alice", "c", 3, {contact("sip:a@3", 600s), contact("sip:a@4", 600s)}));
  ASSERT_TRUE(later.has_value()) << later.error().message();
  EXPECT_EQ(later->size(), 3u);
  // Other AORs have their own limit.
  EXPECT_TRUE(store.apply(reg("bob", "c", 1, {contact("sip:b@1"), contact("sip:b@2"), contact("sip:b@3")})));
}

TEST_F(BindingStoreTest, DefaultLimitIsTen) {
  auto store = open();
  std::vector<ContactUpdate> eleven;
  for (int i = 0; i < 11; ++i) eleven.push_back(contact("sip:a@" + std::to_string(i)));
  EXPECT_TRUE(store.apply(reg("alice", "c", 1, eleven)).error().is(BindingError::too_many));
  eleven.pop_back();
  EXPECT_EQ(store.apply(reg("alice", "c", 2, eleven))->size(), 10u);
}

TEST_F(BindingStoreTest, QueryWithoutContactsReturnsTheBindings) {
  auto store = open();
  ASSERT_TRUE(store.apply(reg("alice", "c", 1, {contact("sip:a@1", 600s)})));
  auto r = store.apply(reg("alice", "other", 1, {}));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(contacts_of(*r), std::vector<std::string>{"sip:a@1"});
}

TEST_F(BindingStoreTest, InvalidRequestsAreRefused) {
  auto store = open();
  EXPECT_TRUE(store.apply(reg("", "c", 1, {contact("sip:a@1")})).error().is(BindingError::invalid_request));
  EXPECT_TRUE(store.apply(reg("alice", "c", 1, {contact("")})).error().is(BindingError::invalid_request));
  EXPECT_TRUE(store.apply(reg("alice", "c", 1, {contact("sip:a@1", 600s, 1001)})).error().is(BindingError::invalid_request));
  EXPECT_TRUE(store.apply(reg("alice", "c", 1, {contact("sip:a@1", -1s)})).error().is(BindingError::invalid_request));
}

TEST_F(BindingStoreTest, AllListsEveryAorInOrder) {
  auto store = open();
  ASSERT_TRUE(store.apply(reg("carol", "c", 1, {contact("sip:c@1")})));
  ASSERT_TRUE(store.apply(reg("alice", "c", 1, {contact("sip:a@1", 600s, 200), contact("sip:a@2", 600s, 800)})));
  auto all = store.all();
  ASSERT_TRUE(all.has_value());
  EXPECT_EQ(contacts_of(*all), (std::vector<std::string>{"sip:a@2", "sip:a@1", "sip:c@1"}));
}

TEST(QValue, ParsesAndFormatsThreeDecimals) {
  EXPECT_EQ(parse_qvalue("1"), 1000);
  EXPECT_EQ(parse_qvalue("1.000"), 1000);
  EXPECT_EQ(parse_qvalue("0"), 0);
  EXPECT_EQ(parse_qvalue("0.5"), 500);
  EXPECT_EQ(parse_qvalue("0.05"), 50);
  EXPECT_EQ(parse_qvalue("0.123"), 123);
  EXPECT_EQ(parse_qvalue("0."), 0);
  for (const char* bad : {"", "2", "1.5", "0.1234", "-0.5", ".5", "0,5", "0.a", "1.001", "01"}) {
    EXPECT_FALSE(parse_qvalue(bad).has_value()) << bad;
  }
  EXPECT_EQ(format_qvalue(1000), "1");
  EXPECT_EQ(format_qvalue(0), "0");
  EXPECT_EQ(format_qvalue(500), "0.5");
  EXPECT_EQ(format_qvalue(25), "0.025");
  EXPECT_EQ(format_qvalue(120), "0.12");
}

TEST(BindingStoreOptionsCheck, RejectsInconsistentOptions) {
  FakeWallClock clock;
  EXPECT_FALSE(BindingStore::open({.max_bindings_per_aor = 0}, clock).has_value());
  EXPECT_FALSE(BindingStore::open({.min_expires = 600s, .max_expires = 60s}, clock).has_value());
  EXPECT_FALSE(BindingStore::open({.max_expires = 600s, .default_expires = 3600s}, clock).has_value());
}

// ---- files ----

class BindingStoreFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("sipline-bindings-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "bindings.db").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  base::Result<BindingStore> open_file(const std::string& path) { return BindingStore::open({.path = path}, clock_); }

  void sql(const std::string& statements) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    EXPECT_EQ(sqlite3_exec(db, statements.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    sqlite3_close(db);
  }

  std::filesystem::path dir_;
  std::string path_;
  FakeWallClock clock_;
};

TEST_F(BindingStoreFileTest, ReopeningTheFileKeepsBindings) {
  {
    auto store = open_file(path_);
    ASSERT_TRUE(store.has_value()) << store.error().message();
    ASSERT_TRUE(store->apply(reg("alice", "c", 4, {contact("sip:a@1", 600s, 700, "<urn:uuid:z>")})));
    EXPECT_TRUE(std::filesystem::exists(path_ + "-wal"));  // WAL journal while open
  }
  auto again = open_file(path_);
  ASSERT_TRUE(again.has_value()) << again.error().message();
  auto bindings = again->lookup("alice");
  ASSERT_TRUE(bindings.has_value());
  ASSERT_EQ(bindings->size(), 1u);
  EXPECT_EQ((*bindings)[0].q_milli, 700);
  EXPECT_EQ((*bindings)[0].cseq, 4u);
  EXPECT_EQ((*bindings)[0].instance_id, "<urn:uuid:z>");
  EXPECT_EQ((*bindings)[0].expires_at, clock_.now() + 600s);
  // The Call-ID/CSeq rule holds across the restart.
  EXPECT_TRUE(again->apply(reg("alice", "c", 4, {contact("sip:a@1")})).error().is(BindingError::out_of_order));
}

TEST_F(BindingStoreFileTest, TextFileIsCorrupt) {
  std::ofstream(path_) << "this is not a database, just some text that is long enough to look like a header\n";
  auto r = open_file(path_);
  ASSERT_FALSE(r.has_value());
  EXPECT_TRUE(r.error().is(BindingError::corrupt)) << r.error().message();
}

TEST_F(BindingStoreFileTest, DamagedDatabaseIsCorrupt) {
  {
    auto store = open_file(path_);
    ASSERT_TRUE(store.has_value());
    std::vector<ContactUpdate> many;
    for (int i = 0; i < 10; ++i) many.push_back(contact("sip:a@" + std::to_string(i) + std::string(300, 'x')));
    ASSERT_TRUE(store->apply(reg("alice", "c", 1, many)));
  }
  ASSERT_GT(std::filesystem::file_size(path_), 8192u);
  {
    std::fstream f(path_, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(4096 + 8);  // inside page 2, past its header
    const std::string junk(2048, '\xA5');
    f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
    f.seekp(4096);
    f.write("\x42\x42\x42\x42", 4);  // and a page type that does not exist
  }
  auto r = open_file(path_);
  ASSERT_FALSE(r.has_value());
  EXPECT_TRUE(r.error().is(BindingError::corrupt)) << r.error().message();
}

TEST_F(BindingStoreFileTest, AnotherProgramsDatabaseIsRefused) {
  sql("CREATE TABLE users (name TEXT);");
  auto r = open_file(path_);
  ASSERT_FALSE(r.has_value());
  EXPECT_TRUE(r.error().is(BindingError::unsupported_schema)) << r.error().message();
}

TEST_F(BindingStoreFileTest, NewerSchemaIsRefused) {
  ASSERT_TRUE(open_file(path_).has_value());
  sql("UPDATE schema_version SET version = 2;");
  auto r = open_file(path_);
  ASSERT_FALSE(r.has_value());
  EXPECT_TRUE(r.error().is(BindingError::unsupported_schema)) << r.error().message();
}

TEST_F(BindingStoreFileTest, UnopenablePathIsOpenFailed) {
  auto dir = open_file(dir_.string());  // a directory
  ASSERT_FALSE(dir.has_value());
  EXPECT_TRUE(dir.error().is(BindingError::open_failed)) << dir.error().message();
  auto missing = open_file((dir_ / "no" / "such" / "dir.db").string());
  ASSERT_FALSE(missing.has_value());
  EXPECT_TRUE(missing.error().is(BindingError::open_failed)) << missing.error().message();
}

}  // namespace
}  // namespace sipline::gateway::registrar
