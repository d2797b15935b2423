#include "hmc/cli/spec_input.hpp"

#include <gtest/gtest.h>

#include <sstream>

namespace {

using hmc::cli::json_to_yaml;
using hmc::cli::pretty_json;
using hmc::cli::read_spec_text;
using hmc::cli::spec_to_json;

std::string convert(const std::string& yaml) {
  auto r = spec_to_json(yaml, "spec.yaml");
  EXPECT_TRUE(r) << (r ? "" : r.error().message);
  return r ? *r : "";
}

std::string convert_error(const std::string& yaml) {
  auto r = spec_to_json(yaml, "spec.yaml");
  EXPECT_FALSE(r) << "converted: " << (r ? *r : "");
  return r ? "" : r.error().message;
}

TEST(SpecToJson, PlainScalarsResolveLikeTheCoreSchema) {
  EXPECT_EQ(convert("a: 2\nb: -3\nc: 1.5\nd: true\ne: ~\nf: word\ng: 0x1f\nh: 0o17\ni: 1e3\n"),
            R"({"a":2,"b":-3,"c":1.5E0,"d":true,"e":null,"f":"word","g":31,"h":15,"i":1E3})");
}

TEST(SpecToJson, QuotedScalarsStayStrings) {
  EXPECT_EQ(convert("a: \"2\"\nb: 'true'\nc: !!str 3\nd: \"\"\n"), R"({"a":"2","b":"true","c":"3","d":""})");
}

TEST(SpecToJson, YamlOneOneWordsAndSpecialFloatsAreStrings) {
  // YAML 1.2: yes/no/on/off are strings; JSON has no infinity or NaN.
  EXPECT_EQ(convert("a: yes\nb: off\nc: .inf\nd: .nan\n"), R"({"a":"yes","b":"off","c":".inf","d":".nan"})");
}

TEST(SpecToJson, NestedMapsAndSequencesKeepTheirOrder) {
  EXPECT_EQ(convert("z: 1\nresources: {cpus: 1, mem: 512}\nexecutorArgs: [--a, --b]\nenv:\n  B: x\n  A: y\n"),
            R"({"z":1,"resources":{"cpus":1,"mem":512},"executorArgs":["--a","--b"],"env":{"B":"x","A":"y"}})");
}

TEST(SpecToJson, JsonIsTakenAsIs) {
  const std::string json = R"({"name": "x", "cpus": 1.0})";
  EXPECT_EQ(convert(json), json);
}

TEST(SpecToJson, RefusesWhatTheSchemaCannotMeanWithLineNumbers) {
  EXPECT_NE(convert_error("a: 1\na: 2\n").find("spec.yaml:2:1: duplicate key 'a'"), std::string::npos);
  EXPECT_NE(convert_error("? [a]\n: 1\n").find("mapping keys must be plain strings"), std::string::npos);
  EXPECT_NE(convert_error("a: 1\n---\nb: 2\n").find("2 YAML documents"), std::string::npos);
  EXPECT_NE(convert_error("- a\n").find("must be a mapping"), std::string::npos);
  EXPECT_NE(convert_error("a: [1\n").find("spec.yaml:"), std::string::npos);
  EXPECT_NE(convert_error("# only a comment\n").find("empty"), std::string::npos);
  std::string deep = "a: ";
  for (int i = 0; i < 40; ++i) deep += "[";
  for (int i = 0; i < 40; ++i) deep += "]";
  EXPECT_NE(convert_error(deep + "\n").find("nested deeper than 32"), std::string::npos);
}

TEST(SpecToJson, AliasesThatExpandBeyondTheLimitAreRefused) {
  std::string bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  std::string prev = "a";
  for (char c = 'b'; c <= 'i'; ++c) {
    bomb += std::string(1, c) + ": &" + c + " [";
    for (int i = 0; i < 10; ++i) bomb += (i ? ", *" : "*") + prev;
    bomb += "]\n";
    prev = std::string(1, c);
  }
  EXPECT_NE(convert_error(bomb).find("expands to more than 1 MiB"), std::string::npos);
  // Small aliases are fine.
  EXPECT_EQ(convert("a: &x 1\nb: *x\n"), R"({"a":1,"b":1})");
}

TEST(ReadSpecText, RefusesHugeBinaryAndEmptyInput) {
  std::istringstream huge(std::string(hmc::cli::kMaxSpecBytes + 1, 'a'));
  auto r = read_spec_text("-", huge);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "<stdin>: larger than 1 MiB; a topology spec is a small YAML or JSON file");
  std::istringstream nul(std::string("name: x\n\0", 9));
  r = read_spec_text("-", nul);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("binary data at byte 8"), std::string::npos);
  for (const std::string bad : {"a: \xff\n", "a: \xc0\xaf\n", "a: \xed\xa0\x80\n", "a: \x1b[31m\n"}) {
    std::istringstream in(bad);
    EXPECT_FALSE(read_spec_text("-", in)) << bad;
  }
  std::istringstream empty(" \n\t\n");
  EXPECT_FALSE(read_spec_text("-", empty));
}

TEST(ReadSpecText, AcceptsUtf8AndDropsAByteOrderMark) {
  std::istringstream in("\xEF\xBB\xBFlabels: {team: \"caf\xC3\xA9 \xF0\x9F\x9A\x80\"}\n");
  auto r = read_spec_text("-", in);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->substr(0, 7), "labels:");
}

TEST(JsonToYaml, QuotesStringsThatWouldReadBackAsOtherTypes) {
  const std::string json = R"({"a":"2","b":"true","c":"~","d":"","e":"word","f":2,"g":1.5,"h":null,"i":[],"j":{}})";
  const std::string yaml = json_to_yaml(json);
  EXPECT_EQ(convert(yaml), R"({"a":"2","b":"true","c":"~","d":"","e":"word","f":2,"g":1.5E0,"h":null,"i":[],"j":{}})")
      << yaml;
}

TEST(PrettyJson, OneFieldPerLine) {
  EXPECT_EQ(pretty_json(R"({"a":1,"b":{"c":[1,"x"]},"d":{}})"),
            "{\n  \"a\": 1,\n  \"b\": {\n    \"c\": [\n      1,\n      \"x\"\n    ]\n  },\n  \"d\": {}\n}\n");
}

}  // namespace
