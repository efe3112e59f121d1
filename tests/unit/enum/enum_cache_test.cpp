#include "sipline/enum/enum_cache.hpp"

#include <gtest/gtest.h>

#include "sipline/base/clock.hpp"

namespace sipline::e164 {
namespace {

using std::chrono::seconds;

std::vector<Naptr> one_record(std::string_view user) {
  Naptr n;
  n.order = 100;
  n.preference = 10;
  n.flags = "u";
  n.services = "E2U+sip";
  n.regexp = "!^.*$!sip:" + std::string(user) + "@example.com!";
  return {n};
}

class EnumCacheTest : public ::testing::Test {
 protected:
  void advance(seconds s) { clock_.advance(s); }
  base::ManualClock clock_;
};

TEST_F(EnumCacheTest, MissesThenHitsWithTtlLeft) {
  EnumCache cache(clock_, 10, seconds(86400));
  EXPECT_FALSE(cache.get("1.e164.arpa"));
  cache.put_positive("1.e164.arpa", one_record("a"), "1.e164.arpa", seconds(300));
  advance(seconds(100));
  auto hit = cache.get("1.e164.arpa");
  ASSERT_TRUE(hit);
  EXPECT_FALSE(hit->negative);
  EXPECT_EQ(hit->records, one_record("a"));
  EXPECT_EQ(hit->canonical_name, "1.e164.arpa");
  EXPECT_EQ(hit->ttl_left, seconds(200));
  EXPECT_EQ(cache.stats().hits, 1u);
  EXPECT_EQ(cache.stats().misses, 1u);
  EXPECT_EQ(cache.stats().expired, 0u);
  EXPECT_EQ(cache.stats().entries, 1u);
}

TEST_F(EnumCacheTest, RoundsTtlLeftUp) {
  EnumCache cache(clock_, 10, seconds(86400));
  cache.put_positive("a", one_record("a"), "a", seconds(2));
  clock_.advance(std::chrono::milliseconds(1500));
  auto hit = cache.get("a");
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->ttl_left, seconds(1));
}

TEST_F(EnumCacheTest, ExpiresAtTtl) {
  EnumCache cache(clock_, 10, seconds(86400));
  cache.put_positive("1.e164.arpa", one_record("a"), "1.e164.arpa", seconds(60));
  advance(seconds(59));
  EXPECT_TRUE(cache.get("1.e164.arpa"));
  advance(seconds(1));
  EXPECT_FALSE(cache.get("1.e164.arpa"));
  EXPECT_EQ(cache.stats().hits, 1u);
  EXPECT_EQ(cache.stats().misses, 1u);
  EXPECT_EQ(cache.stats().expired, 1u);
  EXPECT_EQ(cache.stats().entries, 0u);
  EXPECT_EQ(cache.size(), 0u);
  // Gone for good: the next miss is not counted as expired again.
  EXPECT_FALSE(cache.get("1.e164.arpa"));
  EXPECT_EQ(cache.stats().misses, 2u);
  EXPECT_EQ(cache.stats().expired, 1u);
}

TEST_F(EnumCacheTest, StoresNegativeAnswers) {
  EnumCache cache(clock_, 10, seconds(86400));
  cache.put_negative("nx.e164.arpa", true, seconds(900));
  cache.put_negative("nodata.e164.arpa", false, seconds(30));
  auto nx = cache.get("nx.e164.arpa");
  ASSERT_TRUE(nx);
  EXPECT_TRUE(nx->negative);
  EXPECT_TRUE(nx->nxdomain);
  EXPECT_TRUE(nx->records.empty());
  EXPECT_EQ(nx->ttl_left, seconds(900));
  auto nodata = cache.get("nodata.e164.arpa");
  ASSERT_TRUE(nodata);
  EXPECT_TRUE(nodata->negative);
  EXPECT_FALSE(nodata->nxdomain);
  advance(seconds(30));
  EXPECT_FALSE(cache.get("nodata.e164.arpa"));
  EXPECT_TRUE(cache.get("nx.e164.arpa"));
}

TEST_F(EnumCacheTest, PutReplacesAnEntry) {
  EnumCache cache(clock_, 10, seconds(86400));
  cache.put_negative("d", true, seconds(60));
  cache.put_positive("D.", one_record("new"), "d", seconds(120));
  EXPECT_EQ(cache.size(), 1u);
  auto hit = cache.get("d");
  ASSERT_TRUE(hit);
  EXPECT_FALSE(hit->negative);
  EXPECT_EQ(hit->records, one_record("new"));
  EXPECT_EQ(hit->ttl_left, seconds(120));
}

TEST_F(EnumCacheTest, EvictsLeastRecentlyUsed) {
  EnumCache cache(clock_, 3, seconds(86400));
  cache.put_positive("a", one_record("a"), "a", seconds(60));
  cache.put_positive("b", one_record("b"), "b", seconds(60));
  cache.put_positive("c", one_record("c"), "c", seconds(60));
  EXPECT_TRUE(cache.get("a"));  // a is now the most recent; b the least
  cache.put_positive("d", one_record("d"), "d", seconds(60));
  EXPECT_EQ(cache.stats().evictions, 1u);
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_FALSE(cache.get("b"));
  EXPECT_TRUE(cache.get("a"));
  EXPECT_TRUE(cache.get("c"));
  EXPECT_TRUE(cache.get("d"));
  // Order now (most recent first): d c a. Putting e drops a.
  cache.put_negative("e", true, seconds(60));
  EXPECT_EQ(cache.stats().evictions, 2u);
  EXPECT_FALSE(cache.get("a"));
  EXPECT_TRUE(cache.get("c"));
  EXPECT_EQ(cache.stats().entries, 3u);
}

TEST_F(EnumCacheTest, ReplacingRefreshesRecencyWithoutEvicting) {
  EnumCache cache(clock_, 2, seconds(86400));
  cache.put_positive("a", one_record("a"), "a", seconds(60));
  cache.put_positive("b", one_record("b"), "b", seconds(60));
  cache.put_positive("a", one_record("a2"), "a", seconds(60));  // a most recent
  EXPECT_EQ(cache.stats().evictions, 0u);
  cache.put_positive("c", one_record("c"), "c", seconds(60));
  EXPECT_EQ(cache.stats().evictions, 1u);
  EXPECT_FALSE(cache.get("b"));
  EXPECT_TRUE(cache.get("a"));
}

TEST_F(EnumCacheTest, CapsTtlAtMaxTtl) {
  EnumCache cache(clock_, 10, seconds(3600));
  cache.put_positive("a", one_record("a"), "a", seconds(0x7FFFFFFF));
  cache.put_negative("n", true, seconds(7200));
  auto hit = cache.get("a");
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->ttl_left, seconds(3600));
  EXPECT_EQ(cache.get("n")->ttl_left, seconds(3600));
  advance(seconds(3600));
  EXPECT_FALSE(cache.get("a"));
  EXPECT_FALSE(cache.get("n"));
  EXPECT_EQ(cache.stats().expired, 2u);
}

TEST_F(EnumCacheTest, HugeMaxTtlDoesNotOverflow) {
  EnumCache cache(clock_, 10, seconds::max());
  cache.put_positive("a", one_record("a"), "a", seconds::max());
  auto hit = cache.get("a");
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->ttl_left, seconds(0x7FFFFFFF));  // RFC 2181 §8 limit
}

TEST_F(EnumCacheTest, DoesNotStoreTtlZero) {
  EnumCache cache(clock_, 10, seconds(86400));
  cache.put_positive("a", one_record("a"), "a", seconds(0));
  cache.put_negative("n", true, seconds(0));
  cache.put_negative("m", true, seconds(-5));
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_FALSE(cache.get("a"));
  EXPECT_FALSE(cache.get("n"));
  EXPECT_EQ(cache.stats().entries, 0u);
}

TEST_F(EnumCacheTest, MaxEntriesZeroDisablesTheCache) {
  EnumCache cache(clock_, 0, seconds(86400));
  cache.put_positive("a", one_record("a"), "a", seconds(60));
  cache.put_negative("n", true, seconds(60));
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_FALSE(cache.get("a"));
  EXPECT_FALSE(cache.get("n"));
  EXPECT_EQ(cache.stats().misses, 2u);
  EXPECT_EQ(cache.stats().hits, 0u);
  EXPECT_EQ(cache.stats().evictions, 0u);
}

TEST_F(EnumCacheTest, KeysIgnoreCaseAndTrailingDot) {
  EnumCache cache(clock_, 10, seconds(86400));
  cache.put_positive("8.4.1.E164.Arpa.", one_record("a"), "8.4.1.e164.arpa", seconds(60));
  EXPECT_TRUE(cache.get("8.4.1.e164.arpa"));
  EXPECT_TRUE(cache.get("8.4.1.E164.ARPA."));
  EXPECT_FALSE(cache.get("8.4.1.e164.arpa.."));
  EXPECT_EQ(cache.size(), 1u);
}

TEST_F(EnumCacheTest, ClearDropsEntriesKeepsCounters) {
  EnumCache cache(clock_, 10, seconds(86400));
  cache.put_positive("a", one_record("a"), "a", seconds(60));
  EXPECT_TRUE(cache.get("a"));
  cache.clear();
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.stats().entries, 0u);
  EXPECT_FALSE(cache.get("a"));
  EXPECT_EQ(cache.stats().hits, 1u);
  EXPECT_EQ(cache.stats().misses, 1u);
}

TEST(CacheKey, LowercasesAndDropsOneTrailingDot) {
  EXPECT_EQ(cache_key("4.3.2.1.E164.ARPA."), "4.3.2.1.e164.arpa");
  EXPECT_EQ(cache_key("example.com"), "example.com");
  EXPECT_EQ(cache_key("."), "");
  EXPECT_EQ(cache_key(""), "");
  EXPECT_EQ(cache_key("a\\.B"), "a\\.b");
}

}  // namespace
}  // namespace sipline::e164
