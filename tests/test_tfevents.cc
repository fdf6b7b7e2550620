// TensorBoard event files: CRC32C against published vectors, and records
// read back with an independent decoder (framing, both CRCs, the protobuf).
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

extern "C" {
#include "core/sf_fileio.h"
#include "core/sf_tfevents.h"
}

namespace {

namespace fs = std::filesystem;

struct TmpDir {
  std::string path;
  TmpDir() {
    char t[] = "/tmp/sf_tb_XXXXXX";
    path = mkdtemp(t);
  }
  ~TmpDir() { fs::remove_all(path); }
};

// A bit-at-a-time CRC32C, independent of the table the library uses.
uint32_t crc32c_slow(const std::string &s) {
  uint32_t c = 0xFFFFFFFFu;
  for (unsigned char b : s) {
    c ^= b;
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1u)));
  }
  return ~c;
}

TEST(Crc32c, KnownVectors) {
  EXPECT_EQ(sf_crc32c(0, "123456789", 9), 0xE3069283u);
  EXPECT_EQ(sf_crc32c(0, "", 0), 0u);
  // RFC 3720 (iSCSI), appendix B.4.
  std::string zeros(32, '\0'), ones(32, '\xff'), inc(32, 0), dec(32, 0);
  for (int i = 0; i < 32; ++i) {
    inc[i] = (char)i;
    dec[i] = (char)(31 - i);
  }
  EXPECT_EQ(sf_crc32c(0, zeros.data(), 32), 0x8A9136AAu);
  EXPECT_EQ(sf_crc32c(0, ones.data(), 32), 0x62A8AB43u);
  EXPECT_EQ(sf_crc32c(0, inc.data(), 32), 0x46DD794Eu);
  EXPECT_EQ(sf_crc32c(0, dec.data(), 32), 0x113FDB5Cu);
  // Any split of the input gives the same CRC, and the bitwise form agrees.
  std::string text = "The quick brown fox jumps over the lazy dog, 0123456789 times.";
  for (size_t cut = 0; cut <= text.size(); ++cut)
    EXPECT_EQ(sf_crc32c(sf_crc32c(0, text.data(), cut), text.data() + cut, text.size() - cut),
              crc32c_slow(text));
  // Long inputs (the checkpoint's data) may take another path: same CRC.
  std::string big(100000, 0);
  uint64_t x = 88172645463325252ull;
  for (char &ch : big) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    ch = (char)x;
  }
  for (size_t n : {(size_t)255, (size_t)256, (size_t)257, (size_t)1000, (size_t)4099, big.size()})
    EXPECT_EQ(sf_crc32c(0, big.data(), n), crc32c_slow(big.substr(0, n))) << n;
  EXPECT_EQ(sf_crc32c(sf_crc32c(0, big.data(), 3001), big.data() + 3001, big.size() - 3001), crc32c_slow(big));
  // The masked form: rotate right by 15, add 0xa282ead8.
  EXPECT_EQ(sf_tb_masked_crc("", 0), 0xA282EAD8u);
  uint32_t c = 0xE3069283u;
  EXPECT_EQ(sf_tb_masked_crc("123456789", 9), ((c >> 15) | (c << 17)) + 0xA282EAD8u);
}

// ---- an independent reader of event files --------------------------------

struct Event {
  double wall_time = 0;
  int64_t step = 0;
  std::string file_version, tag;
  float value = NAN;
  bool has_value = false;
};

uint64_t varint(const std::string &s, size_t &i) {
  uint64_t v = 0;
  for (int sh = 0; i < s.size() && sh < 64; sh += 7) {
    uint8_t b = (uint8_t)s[i++];
    v |= (uint64_t)(b & 0x7f) << sh;
    if (!(b & 0x80)) return v;
  }
  ADD_FAILURE() << "bad varint";
  return v;
}

// Walk a message, calling f(field, wire, payload-or-varint) for each field.
template <class F>
void fields(const std::string &m, F f) {
  size_t i = 0;
  while (i < m.size()) {
    uint64_t key = varint(m, i);
    int field = (int)(key >> 3), wire = (int)(key & 7);
    if (wire == 0) {
      f(field, wire, std::string(), varint(m, i));
    } else if (wire == 1 || wire == 5) {
      size_t n = wire == 1 ? 8 : 4;
      ASSERT_LE(i + n, m.size());
      f(field, wire, m.substr(i, n), 0);
      i += n;
    } else if (wire == 2) {
      uint64_t n = varint(m, i);
      ASSERT_LE(i + n, m.size());
      f(field, wire, m.substr(i, n), 0);
      i += n;
    } else {
      FAIL() << "unexpected wire type " << wire;
    }
  }
}

Event decode(const std::string &m) {
  Event e;
  fields(m, [&](int field, int wire, const std::string &p, uint64_t v) {
    if (field == 1 && wire == 1) memcpy(&e.wall_time, p.data(), 8);
    else if (field == 2 && wire == 0) e.step = (int64_t)v;
    else if (field == 3 && wire == 2) e.file_version = p;
    else if (field == 5 && wire == 2)
      fields(p, [&](int f2, int w2, const std::string &val, uint64_t) {
        ASSERT_TRUE(f2 == 1 && w2 == 2);
        fields(val, [&](int f3, int w3, const std::string &q, uint64_t) {
          if (f3 == 1 && w3 == 2) e.tag = q;
          else if (f3 == 2 && w3 == 5) {
            memcpy(&e.value, q.data(), 4);
            e.has_value = true;
          } else
            ADD_FAILURE() << "unexpected Summary.Value field " << f3;
        });
      });
    else ADD_FAILURE() << "unexpected Event field " << field;
  });
  return e;
}

uint32_t masked(const std::string &s) {
  uint32_t c = crc32c_slow(s);
  return ((c >> 15) | (c << 17)) + 0xA282EAD8u;
}

std::vector<Event> read_events(const std::string &path) {
  std::ifstream f(path, std::ios::binary);
  std::string s((std::istreambuf_iterator<char>(f)), {});
  std::vector<Event> out;
  size_t i = 0;
  while (i < s.size()) {
    EXPECT_LE(i + 12, s.size()) << "truncated record header";
    if (i + 12 > s.size()) break;
    uint64_t n;
    uint32_t c;
    memcpy(&n, s.data() + i, 8);
    memcpy(&c, s.data() + i + 8, 4);
    EXPECT_EQ(c, masked(s.substr(i, 8))) << "length CRC of record " << out.size();
    EXPECT_LE(i + 12 + n + 4, s.size()) << "truncated record";
    if (i + 12 + n + 4 > s.size()) break;
    std::string data = s.substr(i + 12, n);
    memcpy(&c, s.data() + i + 12 + n, 4);
    EXPECT_EQ(c, masked(data)) << "data CRC of record " << out.size();
    out.push_back(decode(data));
    i += 12 + n + 4;
  }
  return out;
}

TEST(TfEvents, RecordsReadBackWithCrcsAndFields) {
  TmpDir d;
  std::string run = d.path + "/run";
  char err[512];
  double t0 = sf_tb_now();
  sf_tb_writer *w = sf_tb_open(run.c_str(), err, sizeof err);
  ASSERT_NE(w, nullptr) << err;
  std::string path = sf_tb_path(w);
  EXPECT_EQ(fs::path(path).parent_path(), fs::path(run));
  EXPECT_EQ(fs::path(path).filename().string().rfind("events.out.tfevents.", 0), 0u) << path;
  struct In {
    const char *tag;
    int64_t step;
    float value;
    double wall;
  };
  const In in[] = {{"train/return", 0, 12.5f, 1.7e9 + 0.25},
                   {"train/return", 1, -3.75f, 1.7e9 + 1.5},
                   {"train/slope", 127, 1e-7f, 1.7e9 + 2},
                   {"eval/error", 128, INFINITY, 1.7e9 + 3},
                   {"big/step", (int64_t)1 << 40, 0.0f, 1.7e9 + 4},
                   {"neg/step", -5, 1.0f, 1.7e9 + 5},
                   {"utf8/\xc3\xa9", 3, 2.0f, 1.7e9 + 6}};
  for (const In &e : in) ASSERT_EQ(sf_tb_scalar(w, e.tag, e.step, e.value, e.wall), 0) << sf_tb_error(w);
  ASSERT_EQ(sf_tb_flush(w), 0);
  // Flushed records are visible before the file is closed.
  EXPECT_EQ(read_events(path).size(), 1 + sizeof in / sizeof in[0]);
  ASSERT_EQ(sf_tb_close(w, err, sizeof err), 0) << err;

  std::vector<Event> ev = read_events(path);
  ASSERT_EQ(ev.size(), 1 + sizeof in / sizeof in[0]);
  EXPECT_EQ(ev[0].file_version, "brain.Event:2");
  EXPECT_GE(ev[0].wall_time, t0 - 1);
  EXPECT_LE(ev[0].wall_time, sf_tb_now() + 1);
  EXPECT_FALSE(ev[0].has_value);
  for (size_t k = 0; k < sizeof in / sizeof in[0]; ++k) {
    const Event &e = ev[k + 1];
    EXPECT_EQ(e.tag, in[k].tag);
    EXPECT_EQ(e.step, in[k].step);
    EXPECT_TRUE(e.has_value);
    EXPECT_EQ(memcmp(&e.value, &in[k].value, 4), 0) << e.tag;
    EXPECT_EQ(e.wall_time, in[k].wall);
    EXPECT_TRUE(e.file_version.empty());
  }
}

TEST(TfEvents, SecondWriterGetsItsOwnFile) {
  TmpDir d;
  char err[512];
  sf_tb_writer *a = sf_tb_open(d.path.c_str(), err, sizeof err);
  ASSERT_NE(a, nullptr) << err;
  sf_tb_writer *b = sf_tb_open(d.path.c_str(), err, sizeof err);
  ASSERT_NE(b, nullptr) << err;
  EXPECT_STRNE(sf_tb_path(a), sf_tb_path(b));
  sf_tb_scalar(a, "x", 1, 1.0f, 1.0);
  sf_tb_scalar(b, "x", 2, 2.0f, 2.0);
  std::string pa = sf_tb_path(a), pb = sf_tb_path(b);
  EXPECT_EQ(sf_tb_close(a, err, sizeof err), 0);
  EXPECT_EQ(sf_tb_close(b, err, sizeof err), 0);
  ASSERT_EQ(read_events(pa).size(), 2u);
  ASSERT_EQ(read_events(pb).size(), 2u);
  EXPECT_EQ(read_events(pa)[1].step, 1);
  EXPECT_EQ(read_events(pb)[1].step, 2);
}

TEST(TfEvents, BadTagsAndDirectoriesAreErrors) {
  TmpDir d;
  char err[512];
  std::ofstream(d.path + "/file") << "x";
  EXPECT_EQ(sf_tb_open((d.path + "/file/run").c_str(), err, sizeof err), nullptr);
  EXPECT_NE(std::string(err).find("Not a directory"), std::string::npos) << err;

  sf_tb_writer *w = sf_tb_open(d.path.c_str(), err, sizeof err);
  ASSERT_NE(w, nullptr) << err;
  EXPECT_EQ(sf_tb_scalar(w, "", 0, 1.0f, 1.0), -1);
  ASSERT_NE(sf_tb_error(w), nullptr);
  EXPECT_NE(std::string(sf_tb_error(w)).find("tag"), std::string::npos);
  EXPECT_EQ(sf_tb_scalar(w, "ok", 0, 1.0f, 1.0), -1);  // a failed writer stays failed
  EXPECT_EQ(sf_tb_close(w, err, sizeof err), -1);
  EXPECT_NE(std::string(err).find("tag"), std::string::npos) << err;

  w = sf_tb_open(d.path.c_str(), err, sizeof err);
  ASSERT_NE(w, nullptr) << err;
  std::string long_tag(300, 'a');
  EXPECT_EQ(sf_tb_scalar(w, long_tag.c_str(), 0, 1.0f, 1.0), -1);
  sf_tb_close(w, nullptr, 0);
}

TEST(TfEvents, FullDiskIsReported) {
  TmpDir d;
  char err[512];
  sf_tb_writer *w = sf_tb_open(d.path.c_str(), err, sizeof err);
  ASSERT_NE(w, nullptr) << err;
  // A file size limit stands in for a full disk (tests run as root).
  struct rlimit old;
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old), 0);
  struct rlimit small = old;
  small.rlim_cur = 8192;
  void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
  int failed = 0;
  for (int i = 0; i < 2000 && !failed; ++i)
    failed = sf_tb_scalar(w, "train/return", i, (float)i, 1.0) != 0 || sf_tb_flush(w) != 0;
  int rc = sf_tb_close(w, err, sizeof err);
  setrlimit(RLIMIT_FSIZE, &old);
  signal(SIGXFSZ, prev);
  EXPECT_TRUE(failed);
  EXPECT_EQ(rc, -1);
  EXPECT_NE(std::string(err).find("events.out.tfevents"), std::string::npos) << err;
}

}  // namespace
