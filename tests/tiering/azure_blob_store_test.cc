#include "tiering/azure_blob_store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <random>

#include "common/env.h"
#include "common/strings.h"
#include "tests/e2e/azurite_test_server.h"
#include "tests/e2e/test_server.h"
#include "tests/tiering/azure_test_support.h"

namespace timestore::tiering {
namespace {

using azure_test::Contains;
using azure_test::Msg;
using azure_test::OfflineOptions;
using std::chrono::milliseconds;
using testing::AzuriteServer;

std::string RandomBytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string out(n, '\0');
  for (char& c : out) c = static_cast<char>(rng());
  return out;
}

class TempDir {
 public:
  TempDir() : path_(testing::MakeTempDir()) {}
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string Write(const std::string& name, const std::string& data) const {
    const std::string p = path_ + "/" + name;
    auto f = Env::Default()->NewWritableFile(p);
    EXPECT_TRUE(f.ok()) << f.status();
    EXPECT_TRUE((*f)->Append(data).ok());
    EXPECT_TRUE((*f)->Close().ok());
    return p;
  }

 private:
  std::string path_;
};

// ---------------------------------------------------------------------------
// Without a server: connection strings, answers, validation.

TEST(AzureConnectionStringTest, SharedKeyWithBlobEndpoint) {
  auto o = ParseAzureConnectionString(
      "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=" +
      std::string(kDevStoreKey) + ";BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;");
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->endpoint, "http://127.0.0.1:10000/devstoreaccount1");
  EXPECT_EQ(o->account_name, "devstoreaccount1");
  EXPECT_EQ(o->account_key, kDevStoreKey);
  EXPECT_EQ(o->sas_token, "");
}

TEST(AzureConnectionStringTest, AccountAndSuffixMakeTheEndpoint) {
  auto o = ParseAzureConnectionString(
      " AccountName=acct ; AccountKey=Zm9vYmFy ; EndpointSuffix=core.chinacloudapi.cn");
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->endpoint, "https://acct.blob.core.chinacloudapi.cn");
  o = ParseAzureConnectionString("AccountName=acct;AccountKey=Zm9vYmFy");
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->endpoint, "https://acct.blob.core.windows.net");
}

TEST(AzureConnectionStringTest, SharedAccessSignatureWithOrWithoutQuestionMark) {
  for (std::string sas : {"?sv=2021-08-06&sr=c&sig=abc%3D", "sv=2021-08-06&sr=c&sig=abc%3D"}) {
    auto o = ParseAzureConnectionString(
        "BlobEndpoint=https://acct.blob.core.windows.net;SharedAccessSignature=" + sas);
    ASSERT_TRUE(o.ok()) << o.status();
    EXPECT_EQ(o->sas_token, "sv=2021-08-06&sr=c&sig=abc%3D");
    EXPECT_EQ(o->account_key, "");
    EXPECT_EQ(o->endpoint, "https://acct.blob.core.windows.net");
    // The account comes from the host.
    AzureOptions full = *o;
    full.container = "c";
    AzureBlobStore store(full);
    EXPECT_EQ(store.Describe(), "azure://acct/c");
  }
}

TEST(AzureConnectionStringTest, UseDevelopmentStorage) {
  auto o = ParseAzureConnectionString("UseDevelopmentStorage=true");
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->endpoint, "http://127.0.0.1:10000/devstoreaccount1");
  EXPECT_EQ(o->account_name, kDevStoreAccount);
  EXPECT_EQ(o->account_key, kDevStoreKey);
  o = ParseAzureConnectionString(
      "UseDevelopmentStorage=true;DevelopmentStorageProxyUri=http://ipv4.fiddler");
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->endpoint, "http://ipv4.fiddler:10000/devstoreaccount1");
}

TEST(AzureConnectionStringTest, ErrorsNameTheSettingNotTheSecret) {
  struct Case {
    std::string text, expect;
  };
  for (const Case& c : std::vector<Case>{
           {"AccountName=a;AccountKey", "setting 2 has no '='"},
           {"AccountName=a", "neither AccountKey nor SharedAccessSignature"},
           {"AccountKey=Zm9vYmFy", "neither AccountName nor BlobEndpoint"},
           {"AccountName=a;AccountKey=Zm9vYmFy;SharedAccessSignature=sig=x", "both"},
           {"AccountName=a;AccountKey=s3cr3t!!", "AccountKey is not base64"},
           {"AccountName=a;SharedAccessSignature=sv=1&se=s3cr3t", "no signature"},
           {"DefaultEndpointsProtocol=ftp;AccountName=a;AccountKey=Zm9vYmFy", "http nor https"},
           {"UseDevelopmentStorage=false", "only ever 'true'"},
       }) {
    auto o = ParseAzureConnectionString(c.text);
    ASSERT_FALSE(o.ok()) << c.text;
    EXPECT_TRUE(absl::IsInvalidArgument(o.status())) << o.status();
    EXPECT_TRUE(Contains(o.status(), c.expect)) << o.status();
    EXPECT_FALSE(Contains(o.status(), "s3cr3t")) << o.status();
  }
}

TEST(AzureXmlTest, ParsesAListBlobsPage) {
  // The shape of the example in Microsoft's "List Blobs" reference.
  auto page = ParseListBlobsResponse(R"(<?xml version="1.0" encoding="utf-8"?>
<EnumerationResults ServiceEndpoint="http://127.0.0.1:10000/devstoreaccount1" ContainerName="c">
  <Prefix>p/</Prefix><Marker /><MaxResults>2</MaxResults>
  <Blobs>
    <Blob><Name>p/a&amp;b.tseg</Name><Properties>
      <Creation-Time>Tue, 02 Dec 2025 23:04:00 GMT</Creation-Time>
      <Last-Modified>Tue, 02 Dec 2025 23:05:00 GMT</Last-Modified>
      <Etag>0x8DC1234</Etag><Content-Length>42</Content-Length>
      <BlobType>BlockBlob</BlobType></Properties><Metadata /></Blob>
    <Blob><Name>p/b</Name><Properties><Etag>"0x8DC5678"</Etag>
      <Content-Length>0</Content-Length></Properties></Blob>
  </Blobs>
  <NextMarker>2!72!MDAwMDA</NextMarker>
</EnumerationResults>)");
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->blobs.size(), 2u);
  EXPECT_EQ(page->blobs[0].key, "p/a&b.tseg");
  EXPECT_EQ(page->blobs[0].size, 42u);
  EXPECT_EQ(page->blobs[0].etag, "0x8DC1234");
  EXPECT_EQ(page->blobs[0].last_modified_ns, 1764716700ll * 1000000000);
  EXPECT_EQ(page->blobs[1].etag, "0x8DC5678");
  EXPECT_EQ(page->blobs[1].size, 0u);
  EXPECT_EQ(page->next_marker, "2!72!MDAwMDA");

  auto last =
      ParseListBlobsResponse("<EnumerationResults><Blobs/><NextMarker/></EnumerationResults>");
  ASSERT_TRUE(last.ok()) << last.status();
  EXPECT_TRUE(last->blobs.empty());
  EXPECT_EQ(last->next_marker, "");
}

TEST(AzureXmlTest, RejectsMalformedListings) {
  for (const char* bad : {
           "",
           "<Error><Code>X</Code></Error>",
           "<EnumerationResults><Blobs>",
           "<EnumerationResults><Blobs><Blob><Properties><Content-Length>1</Content-Length>"
           "</Properties></Blob></Blobs></EnumerationResults>",
           "<EnumerationResults><Blobs><Blob><Name>a</Name></Blob></Blobs></EnumerationResults>",
           "<EnumerationResults><Blobs><Blob><Name>a</Name><Properties><Content-Length>-1"
           "</Content-Length></Properties></Blob></Blobs></EnumerationResults>",
       }) {
    auto page = ParseListBlobsResponse(bad);
    EXPECT_FALSE(page.ok()) << bad;
    if (!page.ok()) {
      EXPECT_TRUE(absl::IsInvalidArgument(page.status())) << page.status();
    }
  }
}

TEST(AzureXmlTest, ParsesErrors) {
  auto e = ParseAzureError(
      "\xef\xbb\xbf<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>BlobNotFound</Code>"
      "<Message>The specified blob does not exist.\nRequestId:1\nTime:2025</Message></Error>");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->code, "BlobNotFound");
  EXPECT_EQ(e->message, "The specified blob does not exist.");
  EXPECT_FALSE(ParseAzureError("").ok());
  EXPECT_FALSE(ParseAzureError("<html>503</html>").ok());
}

TEST(AzureBlobStoreTest, InvalidOptionsFailEveryCall) {
  struct Case {
    std::function<void(AzureOptions*)> change;
    std::string expect;
  };
  for (const Case& c : std::vector<Case>{
           {[](AzureOptions* o) { o->container.clear(); }, "container"},
           {[](AzureOptions* o) { o->sas_token = "sv=1&sig=x"; }, "exactly one"},
           {[](AzureOptions* o) { o->account_key.clear(); }, "exactly one"},
           {[](AzureOptions* o) { o->account_key = "not base64"; }, "not base64"},
           {[](AzureOptions* o) { o->endpoint = "ftp://x"; }, "http"},
           {[](AzureOptions* o) { o->list_max_results = 0; }, "list_max_results"},
       }) {
    AzureOptions o = OfflineOptions();
    c.change(&o);
    auto created = AzureBlobStore::Create(o);
    ASSERT_FALSE(created.ok()) << c.expect;
    EXPECT_TRUE(absl::IsInvalidArgument(created.status()));
    EXPECT_TRUE(Contains(created.status(), c.expect)) << created.status();
    AzureBlobStore store(o);
    EXPECT_TRUE(absl::IsInvalidArgument(store.Put("k", "v")));
    EXPECT_TRUE(absl::IsInvalidArgument(store.Head("k").status()));
    EXPECT_TRUE(absl::IsInvalidArgument(store.List("").status()));
    EXPECT_EQ(store.stats().failures, 3u);
  }
}

TEST(AzureBlobStoreTest, DescribeAndDerivedEndpoint) {
  AzureOptions o = OfflineOptions();
  o.prefix = "/tier/a/";
  AzureBlobStore store(o);
  EXPECT_EQ(store.Describe(), "azure://devstoreaccount1/c/tier/a");
  o = OfflineOptions();
  o.endpoint.clear();
  o.account_name = "prod";
  AzureBlobStore derived(o);
  EXPECT_EQ(derived.endpoint(), "https://prod.blob.core.windows.net");
  EXPECT_EQ(derived.Describe(), "azure://prod/c");
}

TEST(AzureBlobStoreTest, BadKeysAndMetadataAreRefusedBeforeSending) {
  AzureBlobStore store(OfflineOptions());
  for (std::string key : {std::string(), std::string("a/../b"), std::string("./a"),
                          std::string("a/."), std::string("tab\there"), std::string(1025, 'k')}) {
    EXPECT_TRUE(absl::IsInvalidArgument(store.Put(key, "v"))) << key;
  }
  for (auto [name, value] :
       std::vector<std::pair<std::string, std::string>>{{"Upper", "v"},
                                                        {"1digit", "v"},
                                                        {"under_score", "v"},
                                                        {"", "v"},
                                                        {"ok", ""},
                                                        {"ok", " padded"},
                                                        {"ok", "line\nbreak"},
                                                        {"ok", "caf\xc3\xa9"}}) {
    PutOptions p;
    p.metadata[name] = value;
    absl::Status s = store.Put("k", "v", p);
    EXPECT_TRUE(absl::IsInvalidArgument(s)) << name << "=" << value << ": " << s;
  }
  EXPECT_EQ(store.stats().put_requests, 0u);  // nothing went out
}

// ---------------------------------------------------------------------------
// Against azurite.

class AzuriteTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new AzuriteServer();
    start_status_ = new absl::Status(server_->Start({"timestore", "other"}));
  }
  static void TearDownTestSuite() {
    delete server_;
    delete start_status_;
    server_ = nullptr;
  }
  void SetUp() override {
    ASSERT_TRUE(start_status_->ok()) << "azurite did not start: " << *start_status_;
  }

  // Options for a store of its own under a prefix named for the test.
  AzureOptions Options() const {
    AzureOptions o = server_->Options("timestore");
    o.prefix = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    return o;
  }

  static AzuriteServer* server_;
  static absl::Status* start_status_;
};
AzuriteServer* AzuriteTest::server_ = nullptr;
absl::Status* AzuriteTest::start_status_ = nullptr;

TEST_F(AzuriteTest, PutHeadGetDeleteWithMetadata) {
  AzureBlobStore store(Options());
  PutOptions p;
  p.metadata = {{"segment-id", "42"}, {"min-time", "2025-01-01T00:00:00Z"}, {"codec", "zstd 3"}};
  ASSERT_TRUE(store.Put("seg/a.tseg", "hello azure", p).ok());
  auto info = store.Head("seg/a.tseg");
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->key, "seg/a.tseg");
  EXPECT_EQ(info->size, 11u);
  EXPECT_FALSE(info->etag.empty());
  EXPECT_NE(info->etag.front(), '"');
  EXPECT_GT(info->last_modified_ns, 1700000000ll * 1000000000);
  EXPECT_EQ(info->metadata, p.metadata);
  auto data = store.Get("seg/a.tseg");
  ASSERT_TRUE(data.ok()) << data.status();
  EXPECT_EQ(*data, "hello azure");

  // Replacing drops the old metadata; an empty object is fine.
  ASSERT_TRUE(store.Put("seg/a.tseg", "").ok());
  info = store.Head("seg/a.tseg");
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->size, 0u);
  EXPECT_TRUE(info->metadata.empty());
  EXPECT_EQ(*store.Get("seg/a.tseg"), "");

  ASSERT_TRUE(store.Delete("seg/a.tseg").ok());
  ASSERT_TRUE(store.Delete("seg/a.tseg").ok());  // absent: still OK
  auto gone = store.Head("seg/a.tseg");
  EXPECT_TRUE(absl::IsNotFound(gone.status())) << gone.status();
  EXPECT_TRUE(Contains(gone.status(), store.Describe() + "/seg/a.tseg")) << gone.status();
  EXPECT_TRUE(Contains(gone.status(), "404")) << gone.status();
  auto get = store.Get("seg/a.tseg");
  EXPECT_TRUE(absl::IsNotFound(get.status())) << get.status();
  EXPECT_TRUE(Contains(get.status(), "BlobNotFound")) << get.status();

  const ObjectStoreStats st = store.stats();
  EXPECT_EQ(st.put_requests, 2u);
  EXPECT_EQ(st.head_requests, 3u);
  EXPECT_EQ(st.get_requests, 3u);
  EXPECT_EQ(st.delete_requests, 2u);
  EXPECT_EQ(st.failures, 2u);
  EXPECT_EQ(st.retries, 0u);
  EXPECT_EQ(st.bytes_out, 11u);
}

TEST_F(AzuriteTest, GetRangesReadsManyRangesConcurrently) {
  AzureBlobStore store(Options());
  const std::string data = RandomBytes(1 << 20, 7);
  ASSERT_TRUE(store.Put("big.tseg", data).ok());
  ASSERT_TRUE(store.Put("small.tseg", "0123456789").ok());

  std::mt19937_64 rng(11);
  std::vector<std::string> outs(65);
  std::vector<RangeRead> reads;
  uint64_t expected_bytes = 0;
  for (int i = 0; i < 64; ++i) {
    const uint64_t off = rng() % data.size();
    const uint64_t len = 1 + rng() % std::min<uint64_t>(50000, data.size() - off);
    reads.push_back({"big.tseg", off, len, &outs[i]});
    expected_bytes += len;
  }
  reads.push_back({"small.tseg", 9, 1, &outs[64]});
  RequestCounters counters;
  absl::Status s = store.GetRanges(reads, Clock::now() + std::chrono::seconds(20), &counters);
  ASSERT_TRUE(s.ok()) << s;
  for (int i = 0; i < 64; ++i) {
    ASSERT_EQ(outs[i], data.substr(reads[i].offset, reads[i].length)) << i;
  }
  EXPECT_EQ(outs[64], "9");
  EXPECT_EQ(counters.requests, 65u);
  EXPECT_EQ(counters.bytes_in, expected_bytes + 1);
  EXPECT_EQ(counters.retries, 0u);
  EXPECT_EQ(store.stats().get_requests, 65u);

  // A zero-length read sends nothing.
  std::string empty = "stale";
  RangeRead zero{"small.tseg", 3, 0, &empty};
  ASSERT_TRUE(
      store.GetRanges(std::span<RangeRead>(&zero, 1), Clock::now() + milliseconds(5000)).ok());
  EXPECT_EQ(empty, "");

  // A range running past the end comes back short: DataLoss, naming the key.
  std::string out;
  RangeRead tail{"small.tseg", 5, 10, &out};
  s = store.GetRanges(std::span<RangeRead>(&tail, 1), Clock::now() + std::chrono::seconds(10));
  EXPECT_TRUE(absl::IsDataLoss(s)) << s;
  EXPECT_TRUE(Contains(s, "small.tseg")) << s;
  // Starting past the end: 416, not retried.
  RangeRead past{"small.tseg", 100, 1, &out};
  s = store.GetRanges(std::span<RangeRead>(&past, 1), Clock::now() + std::chrono::seconds(10));
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  EXPECT_TRUE(Contains(s, "416")) << s;
  // A missing object among good ones fails the call with NotFound for it.
  std::vector<std::string> two(2);
  std::vector<RangeRead> mixed = {{"big.tseg", 0, 10, &two[0]}, {"nope.tseg", 0, 10, &two[1]}};
  s = store.GetRanges(mixed, Clock::now() + std::chrono::seconds(10));
  EXPECT_TRUE(absl::IsNotFound(s)) << s;
  EXPECT_TRUE(Contains(s, "nope.tseg")) << s;
  EXPECT_EQ(store.stats().retries, 0u);
}

TEST_F(AzuriteTest, ListPaginatesInKeyOrderUnderThePrefix) {
  AzureOptions o = Options();
  o.list_max_results = 3;
  AzureBlobStore store(o);
  std::vector<std::string> keys;
  for (int i = 0; i < 10; ++i) keys.push_back(StrCat("d/", static_cast<char>('j' - i), "-", i));
  for (const std::string& k : keys) ASSERT_TRUE(store.Put(k, k + k).ok()) << k;
  ASSERT_TRUE(store.Put("e/outside", "x").ok());
  ASSERT_TRUE(store.Put("d.txt", "x").ok());
  // A sibling prefix sharing the first letters must not leak in.
  AzureOptions sibling = Options();
  sibling.prefix += "-sibling";
  ASSERT_TRUE(AzureBlobStore(sibling).Put("d/zz", "x").ok());

  const uint64_t before = store.stats().list_requests;
  auto listed = store.List("d/");
  ASSERT_TRUE(listed.ok()) << listed.status();
  std::sort(keys.begin(), keys.end());
  ASSERT_EQ(listed->size(), keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    EXPECT_EQ((*listed)[i].key, keys[i]);
    EXPECT_EQ((*listed)[i].size, 2 * keys[i].size());
    EXPECT_FALSE((*listed)[i].etag.empty());
    EXPECT_GT((*listed)[i].last_modified_ns, 0);
  }
  EXPECT_EQ(store.stats().list_requests - before, 4u);  // 3 + 3 + 3 + 1

  auto all = store.List("");
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->size(), 12u);
  EXPECT_EQ(all->front().key, "d.txt");
  EXPECT_EQ(all->back().key, "e/outside");
  EXPECT_TRUE(std::is_sorted(all->begin(), all->end(),
                             [](const auto& a, const auto& b) { return a.key < b.key; }));
  auto none = store.List("zzz");
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_TRUE(none->empty());
  auto pending = store.ListPendingUploads("");
  ASSERT_TRUE(pending.ok());
  EXPECT_TRUE(pending->empty());
}

TEST_F(AzuriteTest, AwkwardKeyCharactersRoundTrip) {
  AzureBlobStore store(Options());
  const std::vector<std::string> keys = {
      "dir with space/a+b=c&d;e,f.tseg",
      "percent%2Fand%25/q?x#y",
      "colon:at@bang!quote'(paren)*star$dollar",
      "tilde~under_score-dash.dot",
      "unicode/\xc3\xa9t\xc3\xa9/\xe6\x97\xa5\xe6\x9c\xac.tseg",
      "brackets[1]{2}<3>|pipe^caret`tick\"dq",
      "double//slash",
  };
  for (const std::string& k : keys) {
    ASSERT_TRUE(store.Put(k, "v:" + k).ok()) << k;
  }
  for (const std::string& k : keys) {
    auto got = store.Get(k);
    ASSERT_TRUE(got.ok()) << k << ": " << got.status();
    EXPECT_EQ(*got, "v:" + k);
    auto info = store.Head(k);
    ASSERT_TRUE(info.ok()) << k << ": " << info.status();
    EXPECT_EQ(info->size, k.size() + 2);
    std::string out;
    RangeRead r{k, 2, k.size(), &out};
    ASSERT_TRUE(
        store.GetRanges(std::span<RangeRead>(&r, 1), Clock::now() + std::chrono::seconds(10)).ok())
        << k;
    EXPECT_EQ(out, k);
  }
  auto listed = store.List("");
  ASSERT_TRUE(listed.ok()) << listed.status();
  std::vector<std::string> names;
  for (const auto& i : *listed) names.push_back(i.key);
  std::vector<std::string> sorted = keys;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(names, sorted);
  auto under = store.List("dir with space/");
  ASSERT_TRUE(under.ok()) << under.status();
  ASSERT_EQ(under->size(), 1u);
  for (const std::string& k : keys) ASSERT_TRUE(store.Delete(k).ok()) << k;
  EXPECT_TRUE(store.List("")->empty());
}

TEST_F(AzuriteTest, PutFileUploadsBlocksAboveTheThreshold) {
  AzureOptions o = Options();
  o.block_threshold = 100 * 1024;
  o.block_size = 40 * 1024;
  o.upload_parallelism = 3;
  AzureBlobStore store(o);
  TempDir dir;
  const std::string big = RandomBytes(333 * 1024 + 17, 3);  // 9 blocks, the last one short
  const std::string small = RandomBytes(100 * 1024, 4);     // at the threshold: one Put Blob
  PutOptions p;
  p.metadata = {{"rows", "123456"}};
  ASSERT_TRUE(store.PutFile("blocks.tseg", Env::Default(), dir.Write("big", big), p).ok());
  EXPECT_EQ(store.stats().put_requests, 10u);  // 9 Put Block + Put Block List
  // The blocks, and the block list (9 ids of 24 characters in XML).
  EXPECT_GT(store.stats().bytes_out, big.size() + 9 * 24);
  EXPECT_LT(store.stats().bytes_out, big.size() + 1000);
  auto got = store.Get("blocks.tseg");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(*got == big) << "the blob differs from the file";
  auto info = store.Head("blocks.tseg");
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->size, big.size());
  EXPECT_EQ(info->metadata, p.metadata);

  ASSERT_TRUE(store.PutFile("single.tseg", Env::Default(), dir.Write("small", small)).ok());
  EXPECT_EQ(store.stats().put_requests, 11u);
  EXPECT_TRUE(*store.Get("single.tseg") == small);

  // Uploading again replaces the blob whole (fresh block ids).
  const std::string big2 = RandomBytes(250 * 1024, 5);
  ASSERT_TRUE(store.PutFile("blocks.tseg", Env::Default(), dir.Write("big2", big2)).ok());
  EXPECT_TRUE(*store.Get("blocks.tseg") == big2);
  EXPECT_TRUE(store.Head("blocks.tseg")->metadata.empty());

  auto missing = store.PutFile("x", Env::Default(), dir.path() + "/no-such-file");
  EXPECT_TRUE(absl::IsNotFound(missing)) << missing;
}

TEST_F(AzuriteTest, FailedBlockUploadCommitsNothing) {
  AzureOptions o = Options();
  o.block_threshold = 10 * 1024;
  o.block_size = 4 * 1024;
  AzureBlobStore store(o);
  // A read-only SAS: every Put Block is refused, so no Put Block List is sent.
  ContainerSasParams sas;
  sas.container = "timestore";
  sas.permissions = "rl";
  sas.expiry = std::chrono::system_clock::now() + std::chrono::hours(1);
  AzureOptions ro = Options();
  ro.account_key.clear();
  ro.sas_token =
      MakeContainerSas(*SharedKeyCredential::Create(kDevStoreAccount, kDevStoreKey), sas);
  ro.block_threshold = o.block_threshold;
  ro.block_size = o.block_size;
  AzureBlobStore readonly(ro);
  TempDir dir;
  absl::Status s =
      readonly.PutFile("never.tseg", Env::Default(), dir.Write("f", RandomBytes(50 * 1024, 1)));
  EXPECT_TRUE(absl::IsPermissionDenied(s)) << s;
  EXPECT_TRUE(Contains(s, "Put Block")) << s;
  EXPECT_EQ(readonly.stats().put_requests, 4u);  // the first window of 4, then stop
  EXPECT_EQ(readonly.stats().retries, 0u);
  EXPECT_TRUE(absl::IsNotFound(store.Head("never.tseg").status()));
  EXPECT_TRUE(store.ListPendingUploads("")->empty());
  EXPECT_TRUE(readonly.List("")->empty());  // the SAS can list, and there is nothing
}

TEST_F(AzuriteTest, AccountSasAndContainerSasWork) {
  const auto cred = *SharedKeyCredential::Create(kDevStoreAccount, kDevStoreKey);
  AccountSasParams account;
  account.expiry = std::chrono::system_clock::now() + std::chrono::hours(1);
  ContainerSasParams container;
  container.container = "timestore";
  container.start = std::chrono::system_clock::now() - std::chrono::minutes(5);
  container.expiry = std::chrono::system_clock::now() + std::chrono::hours(1);
  for (std::string token :
       {MakeAccountSas(cred, account), "?" + MakeContainerSas(cred, container)}) {
    AzureOptions o = Options();
    o.account_key.clear();
    o.sas_token = token;
    o.block_threshold = 1000;
    o.block_size = 300;
    AzureBlobStore store(o);
    PutOptions p;
    p.metadata = {{"k", "v"}};
    ASSERT_TRUE(store.Put("sas/a", "via sas", p).ok()) << token;
    TempDir dir;
    const std::string data = RandomBytes(2000, 9);
    ASSERT_TRUE(store.PutFile("sas/b", Env::Default(), dir.Write("b", data)).ok());
    EXPECT_EQ(*store.Get("sas/a"), "via sas");
    EXPECT_TRUE(*store.Get("sas/b") == data);
    EXPECT_EQ(store.Head("sas/a")->metadata, p.metadata);
    std::string out;
    RangeRead r{"sas/b", 100, 50, &out};
    ASSERT_TRUE(
        store.GetRanges(std::span<RangeRead>(&r, 1), Clock::now() + std::chrono::seconds(10)).ok());
    EXPECT_EQ(out, data.substr(100, 50));
    auto listed = store.List("sas/");
    ASSERT_TRUE(listed.ok()) << listed.status();
    EXPECT_EQ(listed->size(), 2u);
    ASSERT_TRUE(store.Delete("sas/a").ok());
    ASSERT_TRUE(store.Delete("sas/b").ok());
    EXPECT_TRUE(store.List("sas/")->empty());
  }
}

TEST_F(AzuriteTest, WrongSasIsPermissionDeniedAndNotRetried) {
  // Signed with another key, and a container SAS for another container.
  auto other = *SharedKeyCredential::Create(kDevStoreAccount, Base64Encode("another key"));
  ContainerSasParams p;
  p.container = "timestore";
  p.expiry = std::chrono::system_clock::now() + std::chrono::hours(1);
  const std::string forged = MakeContainerSas(other, p);
  p.container = "other";
  const std::string elsewhere =
      MakeContainerSas(*SharedKeyCredential::Create(kDevStoreAccount, kDevStoreKey), p);
  for (const std::string& token : {forged, elsewhere}) {
    AzureOptions o = Options();
    o.account_key.clear();
    o.sas_token = token;
    AzureBlobStore store(o);
    absl::Status s = store.Put("k", "v");
    EXPECT_TRUE(absl::IsPermissionDenied(s)) << s;
    EXPECT_TRUE(Contains(s, store.Describe() + "/k")) << s;
    EXPECT_TRUE(Contains(s, "403")) << s;
    const std::string sig = token.substr(token.find("sig=") + 4);
    EXPECT_FALSE(Contains(s, sig)) << s;
    std::string out;
    RangeRead r{"k", 0, 1, &out};
    s = store.GetRanges(std::span<RangeRead>(&r, 1), Clock::now() + std::chrono::seconds(10));
    EXPECT_TRUE(absl::IsPermissionDenied(s)) << s;
    EXPECT_TRUE(absl::IsPermissionDenied(store.List("").status()));
    const ObjectStoreStats st = store.stats();
    EXPECT_EQ(st.put_requests + st.get_requests + st.list_requests, 3u);
    EXPECT_EQ(st.retries, 0u);
    EXPECT_EQ(st.failures, 3u);
  }
}

TEST_F(AzuriteTest, WrongAccountKeyIsPermissionDenied) {
  AzureOptions o = Options();
  o.account_key = Base64Encode("definitely not the key");
  AzureBlobStore store(o);
  absl::Status s = store.Put("k", "v");
  ASSERT_TRUE(absl::IsPermissionDenied(s)) << s;
  EXPECT_TRUE(Contains(s, "AuthenticationFailed") || Contains(s, "AuthorizationFailure")) << s;
  EXPECT_TRUE(Contains(s, store.Describe() + "/k")) << s;
  EXPECT_FALSE(Contains(s, o.account_key)) << s;
  auto head = store.Head("k");  // no body on HEAD: the code comes from x-ms-error-code
  EXPECT_TRUE(absl::IsPermissionDenied(head.status())) << head.status();
  EXPECT_EQ(store.stats().retries, 0u);
  EXPECT_EQ(store.stats().put_requests, 1u);
}

TEST_F(AzuriteTest, MissingContainerIsNotFoundAndCreateContainerIsIdempotent) {
  AzureOptions o = Options();
  o.container = "not-created-yet";
  AzureBlobStore store(o);
  absl::Status s = store.Put("k", "v");
  EXPECT_TRUE(absl::IsNotFound(s)) << s;
  EXPECT_TRUE(Contains(s, "ContainerNotFound")) << s;
  EXPECT_TRUE(absl::IsNotFound(store.List("").status()));
  ASSERT_TRUE(store.CreateContainer().ok());
  ASSERT_TRUE(store.CreateContainer().ok());
  ASSERT_TRUE(store.Put("k", "v").ok());
  EXPECT_EQ(*store.Get("k"), "v");
}

TEST_F(AzuriteTest, ConnectionStringReachesAzurite) {
  auto o = ParseAzureConnectionString(server_->ConnectionString());
  ASSERT_TRUE(o.ok()) << o.status();
  o->container = "other";
  AzureBlobStore store(*o);
  ASSERT_TRUE(store.Put("from-connection-string", "1").ok());
  EXPECT_EQ(*store.Get("from-connection-string"), "1");
}

}  // namespace
}  // namespace timestore::tiering
