// safetensors checkpoints: round trips of every dtype, strict refusal of
// every kind of damaged or mismatched file (with a message, never a crash),
// and atomic writes that keep the previous file when a write fails.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

extern "C" {
#include "core/sf_fileio.h"
#include "core/sf_safetensors.h"
}

namespace {

namespace fs = std::filesystem;

struct TmpDir {
  std::string path;
  TmpDir() {
    char t[] = "/tmp/sf_st_XXXXXX";
    path = mkdtemp(t);
  }
  ~TmpDir() { fs::remove_all(path); }
  std::string operator/(const std::string &name) const { return path + "/" + name; }
};

std::string slurp(const std::string &path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

// Deterministic bytes (a 64-bit LCG), different for every seed.
std::vector<uint8_t> bytes(size_t n, uint64_t seed) {
  std::vector<uint8_t> b(n);
  uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
  for (auto &x : b) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    x = (uint8_t)(s >> 56);
  }
  return b;
}

bool contains(const char *msg, const std::string &frag) { return msg && std::string(msg).find(frag) != std::string::npos; }

// A small checkpoint-like file: a few tensors and metadata.
std::string write_sample(const std::string &path) {
  sf_st_writer *w = sf_st_writer_new();
  std::vector<float> a(6);
  for (int i = 0; i < 6; ++i) a[i] = 0.5f * i - 1.0f;
  int64_t sa[2] = {2, 3};
  std::vector<int64_t> c = {7, -3, 1ll << 40};
  int64_t sc[1] = {3};
  uint8_t u = 9;
  sf_st_add_copy(w, "actor.fc1.weight", SF_ST_F32, 2, sa, a.data());
  sf_st_add_copy(w, "rng.counter", SF_ST_I64, 1, sc, c.data());
  sf_st_add_copy(w, "flag", SF_ST_U8, 0, nullptr, &u);
  sf_st_set_meta(w, "epoch", "12");
  sf_st_set_meta(w, "config", "[train]\nlr = 3e-4\n");
  char err[512];
  EXPECT_EQ(sf_st_write(w, path.c_str(), err, sizeof err), 0) << err;
  sf_st_writer_free(w);
  return slurp(path);
}

// Parse bytes from memory; returns the message ("" when the file was taken).
std::string refusal(const std::string &buf, unsigned flags = 0) {
  char err[512] = "";
  sf_st_file *f = sf_st_parse(buf.data(), buf.size(), "x.safetensors", flags, err, sizeof err);
  if (f) {
    sf_st_close(f);
    return "";
  }
  EXPECT_NE(err[0], 0) << "refused without a message";
  return err;
}

// A file from a header text and data bytes, the header padded to 8.
std::string make_file(std::string header, const std::string &data, bool pad = true) {
  while (pad && header.size() % 8) header += ' ';
  std::string out(8, '\0');
  uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out[i] = (char)(n >> (8 * i));
  return out + header + data;
}

// Fill in the checksum of a file whose header holds "spikefly.crc32c":"00000000".
std::string seal(std::string file) {
  size_t at = file.find("\"spikefly.crc32c\":\"00000000\"");
  EXPECT_NE(at, std::string::npos);
  at += strlen("\"spikefly.crc32c\":\"");
  char hex[9];
  snprintf(hex, sizeof hex, "%08x", sf_crc32c(0, file.data(), file.size()));
  file.replace(at, 8, hex);
  return file;
}

TEST(Safetensors, RoundTripEveryDtype) {
  TmpDir d;
  std::string path = d / "all.safetensors";
  sf_st_writer *w = sf_st_writer_new();
  const int64_t shapes[4][3] = {{3, 5, 2}, {7, 0, 0}, {4, 1, 0}, {0, 0, 0}};
  const int ndims[4] = {3, 1, 2, 0};  // 3-d, 1-d, 2-d and a scalar
  std::vector<std::vector<uint8_t>> data;
  for (int dt = 0; dt < SF_ST_NDTYPES; ++dt)
    for (int s = 0; s < 4; ++s) {
      size_t n = sf_st_dtype_size((sf_st_dtype)dt);
      for (int k = 0; k < ndims[s]; ++k) n *= shapes[s][k];
      data.push_back(bytes(n, 100 * dt + s));
      std::string name = std::string(sf_st_dtype_name((sf_st_dtype)dt)) + ".t" + std::to_string(s);
      ASSERT_EQ(sf_st_add(w, name.c_str(), (sf_st_dtype)dt, ndims[s], shapes[s], data.back().data()), 0)
          << sf_st_writer_error(w);
    }
  int64_t empty_shape[2] = {4, 0};
  ASSERT_EQ(sf_st_add(w, "empty", SF_ST_F32, 2, empty_shape, nullptr), 0);
  ASSERT_EQ(sf_st_set_meta(w, "quote\"and\\slash", "line\nnext\ttab \x01 \xc3\xa9"), 0);
  ASSERT_EQ(sf_st_set_meta(w, "epoch", "3"), 0);
  ASSERT_EQ(sf_st_set_meta(w, "epoch", "4"), 0);  // replaces
  char err[512];
  ASSERT_EQ(sf_st_write(w, path.c_str(), err, sizeof err), 0) << err;
  sf_st_writer_free(w);
  EXPECT_FALSE(fs::exists(path + ".tmp"));

  std::string raw = slurp(path);
  uint64_t hlen = 0;
  for (int i = 0; i < 8; ++i) hlen |= (uint64_t)(uint8_t)raw[i] << (8 * i);
  EXPECT_EQ(hlen % 8, 0u);

  sf_st_file *f = sf_st_open(path.c_str(), 0, err, sizeof err);
  ASSERT_NE(f, nullptr) << err;
  ASSERT_EQ(sf_st_count(f), SF_ST_NDTYPES * 4 + 1);
  int k = 0;
  for (int dt = 0; dt < SF_ST_NDTYPES; ++dt)
    for (int s = 0; s < 4; ++s, ++k) {
      std::string name = std::string(sf_st_dtype_name((sf_st_dtype)dt)) + ".t" + std::to_string(s);
      const sf_st_tensor *t = sf_st_get(f, name.c_str(), (sf_st_dtype)dt, ndims[s], shapes[s], err, sizeof err);
      ASSERT_NE(t, nullptr) << err;
      ASSERT_EQ(t->nbytes, data[k].size());
      EXPECT_EQ(memcmp(t->data, data[k].data(), t->nbytes), 0) << name;
      EXPECT_EQ((uintptr_t)t->data % sf_st_dtype_size((sf_st_dtype)dt), 0u) << name << " is misaligned";
      std::vector<uint8_t> out(t->nbytes + 1, 0xAB);
      ASSERT_EQ(sf_st_read(f, name.c_str(), (sf_st_dtype)dt, ndims[s], shapes[s], out.data(), err, sizeof err), 0);
      EXPECT_EQ(memcmp(out.data(), data[k].data(), t->nbytes), 0);
      EXPECT_EQ(out[t->nbytes], 0xAB);
    }
  const sf_st_tensor *e = sf_st_get(f, "empty", SF_ST_F32, 2, empty_shape, err, sizeof err);
  ASSERT_NE(e, nullptr) << err;
  EXPECT_EQ(e->numel, 0u);
  // Tensors come in data order: offsets grow, element sizes never increase.
  for (int i = 1; i < sf_st_count(f); ++i) {
    const sf_st_tensor *a = sf_st_tensor_at(f, i - 1), *b = sf_st_tensor_at(f, i);
    EXPECT_LE((const uint8_t *)a->data + a->nbytes, (const uint8_t *)b->data);
    EXPECT_GE(sf_st_dtype_size(a->dtype), sf_st_dtype_size(b->dtype));
  }
  EXPECT_STREQ(sf_st_meta(f, "quote\"and\\slash"), "line\nnext\ttab \x01 \xc3\xa9");
  EXPECT_STREQ(sf_st_meta(f, "epoch"), "4");
  EXPECT_EQ(sf_st_meta(f, "absent"), nullptr);
  ASSERT_NE(sf_st_meta(f, SF_ST_CRC_KEY), nullptr);
  EXPECT_EQ(strlen(sf_st_meta(f, SF_ST_CRC_KEY)), 8u);
  ASSERT_NE(sf_st_meta(f, SF_ST_CONTENT_CRC_KEY), nullptr);
  EXPECT_EQ(strlen(sf_st_meta(f, SF_ST_CONTENT_CRC_KEY)), 8u);
  EXPECT_EQ(sf_st_meta_count(f), 4);
  EXPECT_EQ(sf_st_checksummed(f), 1);
  sf_st_close(f);
}

TEST(Safetensors, AddBorrowsAndAddCopyCopies) {
  TmpDir d;
  float v[2] = {1.0f, 2.0f}, c[2] = {3.0f, 4.0f};
  int64_t s[1] = {2};
  sf_st_writer *w = sf_st_writer_new();
  sf_st_add(w, "borrowed", SF_ST_F32, 1, s, v);
  sf_st_add_copy(w, "copied", SF_ST_F32, 1, s, c);
  v[0] = 10.0f;  // seen: borrowed data is read at write time
  c[0] = 30.0f;  // not seen: copied when added
  char err[512];
  ASSERT_EQ(sf_st_write(w, (d / "a.safetensors").c_str(), err, sizeof err), 0) << err;
  sf_st_writer_free(w);
  sf_st_file *f = sf_st_open((d / "a.safetensors").c_str(), 0, err, sizeof err);
  ASSERT_NE(f, nullptr) << err;
  float out[2];
  ASSERT_EQ(sf_st_read(f, "borrowed", SF_ST_F32, 1, s, out, err, sizeof err), 0);
  EXPECT_EQ(out[0], 10.0f);
  ASSERT_EQ(sf_st_read(f, "copied", SF_ST_F32, 1, s, out, err, sizeof err), 0);
  EXPECT_EQ(out[0], 3.0f);
  sf_st_close(f);
}

TEST(Safetensors, WriterRefusesBadInputAndWritesNothing) {
  TmpDir d;
  float v[4] = {0};
  int64_t s1[1] = {4}, neg[2] = {2, -2}, huge[3] = {1ll << 40, 1ll << 40, 1ll << 40};
  int64_t many[SF_ST_MAX_DIMS + 1] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
  struct Case {
    const char *expect;
    std::function<int(sf_st_writer *)> add;
  };
  const Case cases[] = {
      {"added twice",
       [&](sf_st_writer *w) {
         sf_st_add(w, "a", SF_ST_F32, 1, s1, v);
         return sf_st_add(w, "a", SF_ST_F32, 1, s1, v);
       }},
      {"reserved", [&](sf_st_writer *w) { return sf_st_add(w, "__metadata__", SF_ST_F32, 1, s1, v); }},
      {"empty", [&](sf_st_writer *w) { return sf_st_add(w, "", SF_ST_F32, 1, s1, v); }},
      {"not UTF-8", [&](sf_st_writer *w) { return sf_st_add(w, "bad\xff", SF_ST_F32, 1, s1, v); }},
      {"control characters", [&](sf_st_writer *w) { return sf_st_add(w, "a\nb", SF_ST_F32, 1, s1, v); }},
      {"invalid shape [2,-2]", [&](sf_st_writer *w) { return sf_st_add(w, "a", SF_ST_F32, 2, neg, v); }},
      {"invalid shape", [&](sf_st_writer *w) { return sf_st_add(w, "a", SF_ST_F32, 3, huge, v); }},
      {"dimensions", [&](sf_st_writer *w) { return sf_st_add(w, "a", SF_ST_F32, SF_ST_MAX_DIMS + 1, many, v); }},
      {"unknown dtype", [&](sf_st_writer *w) { return sf_st_add(w, "a", (sf_st_dtype)SF_ST_NDTYPES, 1, s1, v); }},
      {"no data", [&](sf_st_writer *w) { return sf_st_add(w, "a", SF_ST_F32, 1, s1, nullptr); }},
      {"reserved for the checksum", [&](sf_st_writer *w) { return sf_st_set_meta(w, SF_ST_CRC_KEY, "0"); }},
      {"not UTF-8", [&](sf_st_writer *w) { return sf_st_set_meta(w, "k", "\xc3"); }},
  };
  for (const Case &c : cases) {
    sf_st_writer *w = sf_st_writer_new();
    EXPECT_EQ(c.add(w), -1) << c.expect;
    EXPECT_TRUE(contains(sf_st_writer_error(w), c.expect)) << sf_st_writer_error(w) << " / " << c.expect;
    char err[512] = "";
    std::string path = d / "w.safetensors";
    EXPECT_EQ(sf_st_write(w, path.c_str(), err, sizeof err), -1);
    EXPECT_TRUE(contains(err, c.expect)) << err;
    EXPECT_FALSE(fs::exists(path));
    sf_st_writer_free(w);
  }
}

TEST(Safetensors, LookupNamesTensorExpectedAndFound) {
  TmpDir d;
  std::string path = d / "x.safetensors";
  write_sample(path);
  char err[512];
  sf_st_file *f = sf_st_open(path.c_str(), 0, err, sizeof err);
  ASSERT_NE(f, nullptr) << err;
  int64_t want[2] = {2, 4};
  EXPECT_EQ(sf_st_get(f, "actor.fc1.weight", SF_ST_F32, 2, want, err, sizeof err), nullptr);
  EXPECT_EQ(std::string(err), path + ": tensor 'actor.fc1.weight' has shape [2,3], expected [2,4]");
  int64_t want3[3] = {2, 3, 1};
  EXPECT_EQ(sf_st_get(f, "actor.fc1.weight", SF_ST_F32, 3, want3, err, sizeof err), nullptr);
  EXPECT_TRUE(contains(err, "has shape [2,3], expected [2,3,1]")) << err;
  int64_t ok[2] = {2, 3};
  EXPECT_EQ(sf_st_get(f, "actor.fc1.weight", SF_ST_F64, 2, ok, err, sizeof err), nullptr);
  EXPECT_TRUE(contains(err, "tensor 'actor.fc1.weight' has dtype F32, expected F64")) << err;
  EXPECT_EQ(sf_st_get(f, "actor.fc2.weight", SF_ST_F32, 2, ok, err, sizeof err), nullptr);
  EXPECT_TRUE(contains(err, "no tensor 'actor.fc2.weight'")) << err;
  EXPECT_EQ(sf_st_meta_require(f, "slope", err, sizeof err), nullptr);
  EXPECT_TRUE(contains(err, "no metadata 'slope'")) << err;
  EXPECT_STREQ(sf_st_meta_require(f, "epoch", err, sizeof err), "12");
  float out[6];
  ASSERT_EQ(sf_st_read(f, "actor.fc1.weight", SF_ST_F32, 2, ok, out, err, sizeof err), 0) << err;
  for (int i = 0; i < 6; ++i) EXPECT_EQ(out[i], 0.5f * i - 1.0f);
  int64_t c[3], sc[1] = {3};
  ASSERT_EQ(sf_st_read(f, "rng.counter", SF_ST_I64, 1, sc, c, err, sizeof err), 0) << err;
  EXPECT_EQ(c[2], 1ll << 40);
  EXPECT_EQ(c[1], -3);
  const sf_st_tensor *flag = sf_st_get(f, "flag", SF_ST_U8, 0, nullptr, err, sizeof err);
  ASSERT_NE(flag, nullptr) << err;
  EXPECT_EQ(*(const uint8_t *)flag->data, 9);
  sf_st_close(f);
}

TEST(Safetensors, TruncatedAtEveryLengthIsRefused) {
  TmpDir d;
  std::string file = write_sample(d / "x.safetensors");
  ASSERT_GT(file.size(), 100u);
  for (size_t n = 0; n < file.size(); ++n) {
    std::string msg = refusal(file.substr(0, n));
    EXPECT_NE(msg, "") << "accepted a file cut to " << n << " bytes";
    // Cuts inside the data section are found by the length check, since the
    // header promises more bytes than there are.
    if (n >= 8 && msg != "") {
      bool named = contains(msg.c_str(), "header length") || contains(msg.c_str(), "data section") ||
                   contains(msg.c_str(), "bad header");
      EXPECT_TRUE(named) << n << ": " << msg;
    }
  }
  EXPECT_TRUE(contains(refusal(file.substr(0, 5)).c_str(), "too short")) << refusal(file.substr(0, 5));
  // The same through a file on disk.
  std::ofstream(d / "cut.safetensors", std::ios::binary) << file.substr(0, file.size() - 3);
  char err[512];
  EXPECT_EQ(sf_st_open((d / "cut.safetensors").c_str(), 0, err, sizeof err), nullptr);
  EXPECT_TRUE(contains(err, "cut.safetensors")) << err;
  EXPECT_EQ(sf_st_open((d / "missing.safetensors").c_str(), 0, err, sizeof err), nullptr);
  EXPECT_TRUE(contains(err, "cannot open")) << err;
}

TEST(Safetensors, EveryFlippedByteIsRefused) {
  TmpDir d;
  std::string file = write_sample(d / "x.safetensors");
  ASSERT_EQ(refusal(file), "");
  for (size_t i = 0; i < file.size(); ++i)
    for (int bit : {0x01, 0x80}) {
      std::string bad = file;
      bad[i] = (char)(bad[i] ^ bit);
      EXPECT_NE(refusal(bad), "") << "accepted a flip of byte " << i;
    }
  // A flipped data byte is found by the checksum.
  std::string bad = file;
  bad[bad.size() - 2] ^= 0x10;
  EXPECT_TRUE(contains(refusal(bad).c_str(), "checksum mismatch")) << refusal(bad);
  // So is a changed metadata value that still parses.
  bad = file;
  size_t at = bad.find("\"epoch\":\"12\"");
  ASSERT_NE(at, std::string::npos);
  bad[at + 10] = '3';
  EXPECT_TRUE(contains(refusal(bad).c_str(), "checksum mismatch")) << refusal(bad);
}

TEST(Safetensors, HeaderLengthBeyondTheFileIsRefused) {
  TmpDir d;
  std::string file = write_sample(d / "x.safetensors");
  for (uint64_t n : {(uint64_t)file.size(), (uint64_t)file.size() - 7, (uint64_t)~0ull, (uint64_t)1 << 40}) {
    std::string bad = file;
    for (int i = 0; i < 8; ++i) bad[i] = (char)(n >> (8 * i));
    EXPECT_TRUE(contains(refusal(bad).c_str(), "header length")) << n << ": " << refusal(bad);
  }
}

struct BadHeader {
  const char *header;
  const char *data;
  const char *expect;  // a fragment of the message
};

TEST(Safetensors, MalformedHeadersAreRefusedWithTheProblemNamed) {
  const std::string d8(8, 'x'), d16(16, 'y');
  const BadHeader cases[] = {
      {"", "", "header ends"},
      {"[]", "", "expected '{'"},
      {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}", "xxxxxxxx", "header ends inside"},
      {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}}", "xxxxxxxx", "unexpected '}'"},
      {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},}", "xxxxxxxx", "expected a string"},
      {"{\"a\":{\"dtype\":\"F32\" \"shape\":[2],\"data_offsets\":[0,8]}}", "xxxxxxxx", "expected ','"},
      {"{\"a\" {\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", "xxxxxxxx", "expected ':'"},
      {"{'a':{}}", "", "expected a string"},
      {"{\"a\":{\"dtype\":\"F33\",\"shape\":[2],\"data_offsets\":[0,8]}}", "xxxxxxxx", "unknown dtype 'F33'"},
      {"{\"a\":{\"dtype\":\"f32\",\"shape\":[2],\"data_offsets\":[0,8]}}", "xxxxxxxx", "unknown dtype 'f32'"},
      {"{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", "xxxxxxxx", "negative"},
      {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2.0],\"data_offsets\":[0,8]}}", "xxxxxxxx", "not an integer"},
      {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2e0],\"data_offsets\":[0,8]}}", "xxxxxxxx", "not an integer"},
      {"{\"a\":{\"dtype\":\"F32\",\"shape\":[02],\"data_offsets\":[0,8]}}", "xxxxxxxx", "leading zero"},
      {"{\"a\":{\"dtype\":\"F32\",\"shape\":[\"2\"],\"data_offsets\":[0,8]}}", "xxxxxxxx", "not a number"},
      {"{\"a\":{\"dtype\":\"F32\",\"shape\":[99999999999999999999],\"data_offsets\":[0,8]}}", "xxxxxxxx", "too large"},
      {"{\"a\":{\"dtype\":\"F32\",\"shape\":[9223372036854775808],\"data_offsets\":[0,8]}}", "xxxxxxxx", "too large"},
      {"{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,8]}}", "xxxxxxxx", "too large"},
      {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]}}", "xxxx", "more than 8"},
      {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2,],\"data_offsets\":[0,8]}}", "xxxxxxxx", "not a number"},
      {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0]}}", "xxxxxxxx", "needs 2 numbers"},
      {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4,8]}}", "xxxxxxxx", "more than 2"},
      {"{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", "xxxxxxxx",
       "tensor 'a' has dtype F32 and shape [3] (12 bytes) but data_offsets [0,8] span 8 bytes"},
      {"{\"a\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[0,8]}}", "xxxxxxxx", "span 8 bytes"},
      {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", "xxxxxxxx", "run backwards"},
      {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}", "xxxxxxxx", "past the end"},
      {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
       "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
       "xxxxxxxxxxxxxxxx", "tensors 'a' and 'b' overlap"},
      {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
       "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}",
       "xxxxxxxxxxxxxxxx", "overlap"},
      {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", "xxxxxxxx",
       "4 bytes of the data section before tensor 'a' belong to no tensor"},
      {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
       "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}",
       "xxxxxxxxxxxx", "before tensor 'b' belong to no tensor"},
      {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", "xxxxxxxx",
       "the data section has 8 bytes but the tensors cover 4"},
      {"{}", "xxxx", "the data section has 4 bytes but the tensors cover 0"},
      {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
       "\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,8]}}",
       "xxxxxxxx", "tensor 'a' appears twice"},
      {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"extra\":1}}", "xxxxxxxx", "unknown field 'extra'"},
      {"{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", "xxxxxxxx", "'dtype' twice"},
      {"{\"a\":{\"shape\":[2],\"data_offsets\":[0,8]}}", "xxxxxxxx", "tensor 'a' has no dtype"},
      {"{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}", "xxxxxxxx", "tensor 'a' has no shape"},
      {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}", "xxxxxxxx", "tensor 'a' has no data_offsets"},
      {"{\"a\":[]}", "", "expected an object for a tensor"},
      {"{\"__metadata__\":{\"k\":1}}", "", "metadata value of 'k' is not a string"},
      {"{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}", "", "metadata key 'k' appears twice"},
      {"{\"__metadata__\":{},\"__metadata__\":{}}", "", "__metadata__ appears twice"},
      {"{\"__metadata__\":[]}", "", "expected an object for __metadata__"},
      {"{\"__metadata__\":{\"k\":\"a\nb\"}}", "", "control character"},
      {"{\"__metadata__\":{\"k\":\"a\\qb\"}}", "", "bad escape"},
      {"{\"__metadata__\":{\"k\":\"\\ud800\"}}", "", "unpaired surrogate"},
      {"{\"__metadata__\":{\"k\":\"\\udc00\"}}", "", "unpaired surrogate"},
      {"{\"__metadata__\":{\"k\":\"\\u00\"}}", "", "\\u escape"},
      {"{\"__metadata__\":{\"k\":\"\\u0000\"}}", "", "NUL character"},
      {"{\"__metadata__\":{\"k\":\"\xc3\x28\"}}", "", "invalid UTF-8"},
      {"{\"__metadata__\":{\"k\":\"\xed\xa0\x80\"}}", "", "invalid UTF-8"},
      {"{\"__metadata__\":{\"k\":\"\xc0\xaf\"}}", "", "invalid UTF-8"},
      {"{\"__metadata__\":{\"k\":\"abc", "", "unterminated string"},
      {"{} x", "", "unexpected 'x' after the header object"},
      {"{}\x01", "", "unexpected byte 0x01"},
  };
  for (const BadHeader &c : cases) {
    std::string file = make_file(c.header, c.data);
    std::string msg = refusal(file, SF_ST_ALLOW_NO_CRC);
    EXPECT_TRUE(contains(msg.c_str(), c.expect)) << c.header << "\n  message: " << msg << "\n  wanted: " << c.expect;
    EXPECT_TRUE(contains(msg.c_str(), "x.safetensors: ")) << msg;
  }
}

TEST(Safetensors, ChecksumIsRequiredAndChecked) {
  const std::string tensor = "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}";
  const std::string data(8, '\x3f');
  std::string plain = make_file("{" + tensor + "}", data);
  EXPECT_TRUE(contains(refusal(plain).c_str(), "no checksum")) << refusal(plain);
  EXPECT_EQ(refusal(plain, SF_ST_ALLOW_NO_CRC), "");

  std::string sealed = seal(make_file("{\"__metadata__\":{\"spikefly.crc32c\":\"00000000\"}," + tensor + "}", data));
  EXPECT_EQ(refusal(sealed), "");
  // The header is covered too: a dtype edit that keeps every size valid.
  std::string edited = sealed;
  edited[edited.find("F32")] = 'I';
  EXPECT_TRUE(contains(refusal(edited).c_str(), "checksum mismatch")) << refusal(edited);
  // A wrong checksum fails even when a missing one would be allowed.
  std::string wrong = sealed;
  size_t at = wrong.find(SF_ST_CRC_KEY) + strlen(SF_ST_CRC_KEY) + 3;
  wrong[at] = wrong[at] == '0' ? '1' : '0';
  EXPECT_TRUE(contains(refusal(wrong, SF_ST_ALLOW_NO_CRC).c_str(), "checksum mismatch")) << refusal(wrong);
  std::string upper = make_file("{\"__metadata__\":{\"spikefly.crc32c\":\"ABCDEF01\"}," + tensor + "}", data);
  EXPECT_TRUE(contains(refusal(upper).c_str(), "not 8 lowercase hex digits")) << refusal(upper);
  std::string shortcrc = make_file("{\"__metadata__\":{\"spikefly.crc32c\":\"abc\"}," + tensor + "}", data);
  EXPECT_TRUE(contains(refusal(shortcrc).c_str(), "not 8 lowercase hex digits")) << refusal(shortcrc);
}

// A JSON string literal of s (the escapes the sample's metadata needs).
std::string json_str(const std::string &s) {
  std::string r = "\"";
  for (char c : s) r += c == '\n' ? std::string("\\n") : c == '"' ? std::string("\\\"") : std::string(1, c);
  return r + "\"";
}

// The sample re-saved the way another writer may: metadata and tensors in
// another order, data packed in name order, spaces in the header.
std::string relayout(const std::string &file) {
  char err[512];
  sf_st_file *f = sf_st_parse(file.data(), file.size(), "x", 0, err, sizeof err);
  EXPECT_NE(f, nullptr) << err;
  std::string header = "{", data;
  for (int i = sf_st_meta_count(f) - 1; i >= 0; --i) {
    const char *k, *v;
    sf_st_meta_at(f, i, &k, &v);
    header += std::string(i == sf_st_meta_count(f) - 1 ? "\"__metadata__\": {" : ", ") + json_str(k) + ": " +
              json_str(v);
  }
  header += "}";
  std::vector<const sf_st_tensor *> ts;
  for (int i = 0; i < sf_st_count(f); ++i) ts.push_back(sf_st_tensor_at(f, i));
  std::sort(ts.begin(), ts.end(), [](auto a, auto b) { return strcmp(a->name, b->name) < 0; });
  for (const sf_st_tensor *t : ts) {
    std::string shape;
    for (int d = 0; d < t->ndim; ++d) shape += (d ? ", " : "") + std::to_string(t->shape[d]);
    header += ", " + json_str(t->name) + ": {\"dtype\": \"" + sf_st_dtype_name(t->dtype) + "\", \"shape\": [" +
              shape + "], \"data_offsets\": [" + std::to_string(data.size()) + ", " +
              std::to_string(data.size() + t->nbytes) + "]}";
    data.append((const char *)t->data, t->nbytes);
  }
  sf_st_close(f);
  return make_file(header + "}", data);
}

// A file re-saved by another writer with the same tensors and metadata keeps
// a valid content checksum; a wrong checksum of either kind is refused.
TEST(Safetensors, ContentChecksumSurvivesAnotherLayout) {
  TmpDir d;
  std::string file = write_sample(d / "x.safetensors");
  std::string other = relayout(file);
  ASSERT_NE(other, file);
  char err[512] = "";
  sf_st_file *f = sf_st_parse(other.data(), other.size(), "x.safetensors", 0, err, sizeof err);
  ASSERT_NE(f, nullptr) << err;
  EXPECT_EQ(sf_st_checksummed(f), 1);
  sf_st_close(f);
  // The same layout with a changed value, tensor or checksum digit: refused.
  for (const char *what : {"12", "3e-4", SF_ST_CRC_KEY}) {
    std::string bad = other;
    size_t at = bad.find(what);
    ASSERT_NE(at, std::string::npos) << what;
    at = what == std::string(SF_ST_CRC_KEY) ? at + strlen(SF_ST_CRC_KEY) + 5 : at;
    bad[at] = bad[at] == '1' ? '2' : '1';
    EXPECT_TRUE(contains(refusal(bad, SF_ST_ALLOW_NO_CRC).c_str(), "checksum mismatch")) << what << refusal(bad);
  }
  std::string bad = other;
  bad[bad.size() - 1] ^= 0x04;
  EXPECT_TRUE(contains(refusal(bad, SF_ST_ALLOW_NO_CRC).c_str(), "content checksum mismatch")) << refusal(bad);
  // Without checksums the file is taken only when allowed, and says so.
  std::string plain = make_file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", "abcd");
  f = sf_st_parse(plain.data(), plain.size(), "p", SF_ST_ALLOW_NO_CRC, err, sizeof err);
  ASSERT_NE(f, nullptr) << err;
  EXPECT_EQ(sf_st_checksummed(f), 0);
  sf_st_close(f);
}

TEST(Safetensors, ReadsFilesOfOtherWritersAligned) {
  // An unpadded header of odd length, escapes, whitespace, and tensors in an
  // order different from their offsets: what another tool may write.
  std::string header =
      "{ \"b\\u00e9\" : {\"dtype\":\"I32\", \"shape\":[1], \"data_offsets\":[8,12]},\n"
      "  \"__metadata__\": {\"format\": \"pt\"},\n"
      "  \"a\":{\"dtype\":\"F64\",\"shape\":[],\"data_offsets\":[0,8]}}";
  ASSERT_NE(header.size() % 8, 0u);
  double a = 2.5;
  int32_t b = -7;
  std::string data((const char *)&a, 8);
  data += std::string((const char *)&b, 4);
  std::string file = make_file(header, data, false);
  char err[512];
  sf_st_file *f = sf_st_parse(file.data(), file.size(), "other", SF_ST_ALLOW_NO_CRC, err, sizeof err);
  ASSERT_NE(f, nullptr) << err;
  ASSERT_EQ(sf_st_count(f), 2);
  EXPECT_STREQ(sf_st_tensor_at(f, 0)->name, "a");
  EXPECT_STREQ(sf_st_tensor_at(f, 1)->name, "b\xc3\xa9");
  const sf_st_tensor *t = sf_st_get(f, "a", SF_ST_F64, 0, nullptr, err, sizeof err);
  ASSERT_NE(t, nullptr) << err;
  EXPECT_EQ((uintptr_t)t->data % 8, 0u);
  EXPECT_EQ(*(const double *)t->data, 2.5);
  int64_t one[1] = {1};
  int32_t got;
  ASSERT_EQ(sf_st_read(f, "b\xc3\xa9", SF_ST_I32, 1, one, &got, err, sizeof err), 0) << err;
  EXPECT_EQ(got, -7);
  EXPECT_STREQ(sf_st_meta(f, "format"), "pt");
  sf_st_close(f);
}

// ---- atomic writes -------------------------------------------------------

TEST(FileIO, FailedWriteKeepsThePreviousFile) {
  TmpDir d;
  std::string path = d / "ckpt.safetensors";
  std::string before = write_sample(path);
  ASSERT_FALSE(before.empty());
  std::vector<float> big(1 << 16, 1.0f);
  int64_t s[1] = {1 << 16};
  sf_st_writer *w = sf_st_writer_new();
  sf_st_add(w, "big", SF_ST_F32, 1, s, big.data());
  char err[512];

  // 1. The temporary file cannot be created (a directory is in the way).
  fs::create_directory(path + ".tmp");
  EXPECT_EQ(sf_st_write(w, path.c_str(), err, sizeof err), -1);
  EXPECT_TRUE(contains(err, "ckpt.safetensors.tmp")) << err;
  EXPECT_EQ(slurp(path), before);
  fs::remove(path + ".tmp");

  // 2. The disk fills up mid-write: a file size limit makes write() fail
  //    with EFBIG, as ENOSPC would (root ignores permissions, not limits).
  struct rlimit old;
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old), 0);
  struct rlimit small = old;
  small.rlim_cur = 4096;
  void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
  int rc = sf_st_write(w, path.c_str(), err, sizeof err);
  setrlimit(RLIMIT_FSIZE, &old);
  signal(SIGXFSZ, prev);
  EXPECT_EQ(rc, -1);
  EXPECT_TRUE(contains(err, "cannot write")) << err;
  EXPECT_EQ(slurp(path), before);
  EXPECT_FALSE(fs::exists(path + ".tmp"));

  // 3. The target's parent is a file.
  std::string under_file = path + "/x.safetensors";
  EXPECT_EQ(sf_st_write(w, under_file.c_str(), err, sizeof err), -1);
  EXPECT_TRUE(contains(err, "Not a directory")) << err;

  // And with room again, the new file replaces the old one whole.
  ASSERT_EQ(sf_st_write(w, path.c_str(), err, sizeof err), 0) << err;
  sf_st_writer_free(w);
  sf_st_file *f = sf_st_open(path.c_str(), 0, err, sizeof err);
  ASSERT_NE(f, nullptr) << err;
  EXPECT_NE(sf_st_find(f, "big"), nullptr);
  EXPECT_EQ(sf_st_find(f, "actor.fc1.weight"), nullptr);
  sf_st_close(f);
}

TEST(FileIO, DirectoryChecksFailEarly) {
  TmpDir d;
  char err[512];
  EXPECT_EQ(sf_dir_check_writable((d / "run/a/b").c_str(), 0, err, sizeof err), 0) << err;
  EXPECT_TRUE(fs::is_directory(d / "run/a/b"));
  EXPECT_TRUE(fs::is_empty(d / "run/a/b"));  // the probe is gone
  std::ofstream(d / "file") << "x";
  EXPECT_EQ(sf_dir_check_writable((d / "file").c_str(), 0, err, sizeof err), -1);
  EXPECT_TRUE(contains(err, "is not a directory")) << err;
  EXPECT_EQ(sf_dir_check_writable((d / "file/run").c_str(), 0, err, sizeof err), -1);
  EXPECT_TRUE(contains(err, "Not a directory")) << err;
  EXPECT_EQ(sf_dir_check_writable(d.path.c_str(), UINT64_MAX / 2, err, sizeof err), -1);
  EXPECT_TRUE(contains(err, "MiB needed")) << err;
  EXPECT_EQ(sf_dir_check_writable("/proc/sys", 0, err, sizeof err), -1);
  EXPECT_TRUE(contains(err, "not writable")) << err;
}

TEST(FileIO, ReadFileAndCrc32c) {
  TmpDir d;
  char err[512];
  ASSERT_EQ(sf_write_file_atomic((d / "f").c_str(), "123456789", 9, err, sizeof err), 0) << err;
  void *buf;
  size_t n;
  ASSERT_EQ(sf_read_file((d / "f").c_str(), &buf, &n, err, sizeof err), 0) << err;
  ASSERT_EQ(n, 9u);
  EXPECT_EQ(((char *)buf)[9], 0);
  EXPECT_EQ(sf_crc32c(0, buf, n), 0xE3069283u);
  EXPECT_EQ(sf_crc32c(sf_crc32c(0, buf, 4), (char *)buf + 4, 5), 0xE3069283u);
  free(buf);
  EXPECT_EQ(sf_read_file(d.path.c_str(), &buf, &n, err, sizeof err), -1);
  EXPECT_TRUE(contains(err, "not a regular file")) << err;
}

}  // namespace
