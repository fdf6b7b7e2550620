// The Teensy serial protocol: framing, checksum, resynchronisation, and the
// companion's handling of observations, resets and bad input.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

extern "C" {
#include "embedded/sf_serial.h"
}

namespace {
int resets = 0;
std::vector<float> last_obs;
float answer[4] = {0.25f, -0.5f, 3.0f, NAN};
void on_reset(void) { resets++; }
void on_step(const float *obs, float *motor) {
  last_obs.assign(obs, obs + 18);
  for (int i = 0; i < 4; ++i) motor[i] = answer[i];
}

int feed_all(sf_serial_parser *p, const uint8_t *b, size_t n, std::vector<sf_serial_frame> *out) {
  int got = 0;
  for (size_t i = 0; i < n; ++i) {
    sf_serial_frame f;
    if (sf_serial_feed(p, b[i], &f)) {
      out->push_back(f);
      got++;
    }
  }
  return got;
}
}  // namespace

TEST(SerialProtocol, Crc16KnownAnswer) {
  // CRC-16/CCITT-FALSE check value of "123456789".
  const uint8_t s[] = {'1', '2', '3', '4', '5', '6', '7', '8', '9'};
  EXPECT_EQ(sf_serial_crc16(s, 9), 0x29B1);
}

TEST(SerialProtocol, MotorFrameBytesByHand) {
  const float m[4] = {1.0f, -1.0f, 0.0f, 0.5f};
  uint8_t b[SF_SERIAL_MAX_FRAME];
  size_t n = sf_serial_encode(SF_SERIAL_MOTOR, m, 4, b);
  ASSERT_EQ(n, 22u);
  const uint8_t head[] = {0xA5, 0x5A, 0x02, 16, 0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x80, 0xBF,
                          0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x3F};
  EXPECT_EQ(std::memcmp(b, head, sizeof head), 0);
  uint16_t crc = sf_serial_crc16(b + 2, 18);
  EXPECT_EQ(b[20], crc & 0xFF);
  EXPECT_EQ(b[21], crc >> 8);
}

TEST(SerialProtocol, RoundTripThroughNoise) {
  float obs[18];
  for (int i = 0; i < 18; ++i) obs[i] = 0.1f * (float)i - 0.7f;
  uint8_t frame[SF_SERIAL_MAX_FRAME], reset[SF_SERIAL_MAX_FRAME];
  size_t n = sf_serial_encode(SF_SERIAL_OBS, obs, 18, frame);
  size_t nr = sf_serial_encode(SF_SERIAL_RESET, nullptr, 0, reset);
  ASSERT_EQ(n, 78u);
  ASSERT_EQ(nr, 6u);
  std::vector<uint8_t> stream = {0x00, 0xA5, 0xA5, 0x13, 0x5A};  // junk, including sync bytes
  stream.insert(stream.end(), reset, reset + nr);
  std::vector<uint8_t> corrupt(frame, frame + n);
  corrupt[10] ^= 0x01;  // one flipped bit: dropped
  stream.insert(stream.end(), corrupt.begin(), corrupt.end());
  stream.push_back(0xA5);  // a stray sync byte right before a good frame
  stream.insert(stream.end(), frame, frame + n);
  sf_serial_parser p;
  sf_serial_parser_init(&p);
  std::vector<sf_serial_frame> got;
  EXPECT_EQ(feed_all(&p, stream.data(), stream.size(), &got), 2);
  EXPECT_EQ(p.bad, 1u);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].type, SF_SERIAL_RESET);
  EXPECT_EQ(got[1].type, SF_SERIAL_OBS);
  ASSERT_EQ(got[1].count, 18);
  for (int i = 0; i < 18; ++i) EXPECT_EQ(got[1].values[i], obs[i]);
  // A wrong length for the type is dropped.
  uint8_t wrong[] = {0xA5, 0x5A, SF_SERIAL_MOTOR, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  EXPECT_EQ(feed_all(&p, wrong, sizeof wrong, &got), 0);
  EXPECT_EQ(p.bad, 2u);
}

TEST(SerialProtocol, CompanionAnswersClippedMotors) {
  resets = 0;
  sf_serial_frame f = {};
  f.type = SF_SERIAL_RESET;
  uint8_t reply[SF_SERIAL_MAX_FRAME];
  EXPECT_EQ(sf_serial_handle(&f, on_reset, on_step, reply), 0u);
  EXPECT_EQ(resets, 1);
  f.type = SF_SERIAL_OBS;
  f.count = 18;
  for (int i = 0; i < 18; ++i) f.values[i] = (float)i;
  size_t n = sf_serial_handle(&f, on_reset, on_step, reply);
  ASSERT_EQ(n, 22u);
  EXPECT_EQ(last_obs[17], 17.0f);
  sf_serial_parser p;
  sf_serial_parser_init(&p);
  std::vector<sf_serial_frame> got;
  ASSERT_EQ(feed_all(&p, reply, n, &got), 1);
  EXPECT_EQ(got[0].type, SF_SERIAL_MOTOR);
  EXPECT_EQ(got[0].values[0], 0.25f);
  EXPECT_EQ(got[0].values[1], -0.5f);
  EXPECT_EQ(got[0].values[2], 1.0f);   // clipped
  EXPECT_EQ(got[0].values[3], -1.0f);  // NaN: motor off
  // A non-finite observation never reaches the network: motors off.
  last_obs.clear();
  f.values[4] = INFINITY;
  n = sf_serial_handle(&f, on_reset, on_step, reply);
  got.clear();
  ASSERT_EQ(feed_all(&p, reply, n, &got), 1);
  EXPECT_TRUE(last_obs.empty());
  for (int i = 0; i < 4; ++i) EXPECT_EQ(got[0].values[i], -1.0f);
}
