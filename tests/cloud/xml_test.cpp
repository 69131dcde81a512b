// d2l/cloud/xml.h: the element tree of AWS's XML replies.
#include "d2l/cloud/xml.h"

#include <gtest/gtest.h>

#include "d2l/core/error.h"

using d2l::cloud::parse_xml;

TEST(CloudXml, ReadsElementsTextAndPaths) {
  const auto root = parse_xml(
      "<?xml version=\"1.0\"?>\n<R xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\">"
      "<set><item><id> i-1 </id><st><name>running</name></st></item><item><id>i-2</id></item>"
      "</set><e/><amp>a &amp; b</amp></R>",
      "test");
  EXPECT_EQ(root.name, "R");
  ASSERT_NE(root.child("set"), nullptr);
  const auto items = root.child("set")->all("item");
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0]->child_text("id"), "i-1");
  ASSERT_NE(items[0]->path({"st", "name"}), nullptr);
  EXPECT_EQ(items[0]->path({"st", "name"})->text, "running");
  EXPECT_EQ(items[1]->path({"st", "name"}), nullptr);
  EXPECT_EQ(root.child_text("e"), "");
  EXPECT_EQ(root.child_text("amp"), "a & b");
  EXPECT_EQ(root.child("missing"), nullptr);
}

TEST(CloudXml, MalformedTextIsOneErrorNamingTheOrigin) {
  try {
    parse_xml("<a><b></a>", "ec2 DescribeInstances");
    FAIL() << "no error";
  } catch (const d2l::Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("ec2 DescribeInstances: not well-formed XML at line 1"), std::string::npos)
        << m;
  }
  EXPECT_THROW(parse_xml("", "x"), d2l::Error);
}
