#include "tiering/xml.h"

#include <gtest/gtest.h>

namespace timestore::tiering {
namespace {

TEST(XmlTest, ParsesAnS3ListingWithNamespaces) {
  auto doc = ParseXml(R"(<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>bucket</Name><IsTruncated>false</IsTruncated>
  <Contents><Key>a/b&amp;c.tseg</Key><Size>42</Size></Contents>
  <Contents><Key>a/d.tseg</Key><Size>7</Size></Contents>
</ListBucketResult>)");
  ASSERT_TRUE(doc.ok()) << doc.status();
  EXPECT_EQ(doc->name, "ListBucketResult");
  EXPECT_EQ(doc->ChildText("IsTruncated"), "false");
  auto contents = doc->Children("Contents");
  ASSERT_EQ(contents.size(), 2u);
  EXPECT_EQ(contents[0]->ChildText("Key"), "a/b&c.tseg");
  EXPECT_EQ(contents[1]->ChildText("Size"), "7");
  EXPECT_EQ(doc->ChildText("Missing"), "");
  EXPECT_EQ(doc->Child("Missing"), nullptr);
}

TEST(XmlTest, PrefixedNamesKeepTheirLocalName) {
  auto doc = ParseXml(R"(<a:Error xmlns:a="x"><a:Code>SlowDown</a:Code></a:Error>)");
  ASSERT_TRUE(doc.ok()) << doc.status();
  EXPECT_EQ(doc->name, "Error");
  EXPECT_EQ(doc->ChildText("Code"), "SlowDown");
}

TEST(XmlTest, RejectsMalformedDeepAndDoctypeDocuments) {
  for (std::string bad : {"", "<a>", "<a></b>", "<a/><b/>", "not xml", "<a>&bogus;</a>"}) {
    EXPECT_FALSE(ParseXml(bad).ok()) << bad;
  }
  std::string deep;
  for (size_t i = 0; i < kMaxXmlDepth + 1; ++i) deep += "<a>";
  for (size_t i = 0; i < kMaxXmlDepth + 1; ++i) deep += "</a>";
  auto d = ParseXml(deep);
  ASSERT_FALSE(d.ok());
  EXPECT_NE(std::string(d.status().message()).find("nested"), std::string::npos);
  auto bomb = ParseXml(R"(<!DOCTYPE a [<!ENTITY x "xxxxxxxx">]><a>&x;&x;</a>)");
  ASSERT_FALSE(bomb.ok());
  EXPECT_NE(std::string(bomb.status().message()).find("document type"), std::string::npos);
}

TEST(XmlTest, EscapeRoundTrips) {
  const std::string raw = R"(a<b>&"c'd)";
  auto doc = ParseXml("<k>" + XmlEscape(raw) + "</k>");
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ(doc->text, raw);
}

}  // namespace
}  // namespace timestore::tiering
