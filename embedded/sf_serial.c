#include "sf_serial.h"

#include <string.h>

enum { WAIT_SYNC0, WAIT_SYNC1, WAIT_TYPE, WAIT_LEN, PAYLOAD, CRC_LO, CRC_HI };

uint16_t sf_serial_crc16(const uint8_t *data, size_t n) {
  uint16_t crc = 0xFFFF;
  for (size_t i = 0; i < n; ++i) {
    crc ^= (uint16_t)(data[i] << 8);
    for (int b = 0; b < 8; ++b) crc = (uint16_t)(crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1);
  }
  return crc;
}

static void put_f32(uint8_t *p, float x) {
  uint32_t u;
  memcpy(&u, &x, sizeof u);
  for (int i = 0; i < 4; ++i) p[i] = (uint8_t)(u >> (8 * i));
}

static float get_f32(const uint8_t *p) {
  uint32_t u = 0;
  for (int i = 0; i < 4; ++i) u |= (uint32_t)p[i] << (8 * i);
  float x;
  memcpy(&x, &u, sizeof x);
  return x;
}

size_t sf_serial_encode(uint8_t type, const float *values, int count, uint8_t *out) {
  out[0] = SF_SERIAL_SYNC0;
  out[1] = SF_SERIAL_SYNC1;
  out[2] = type;
  out[3] = (uint8_t)(4 * count);
  for (int i = 0; i < count; ++i) put_f32(out + 4 + 4 * i, values[i]);
  size_t n = 4 + 4 * (size_t)count;
  uint16_t crc = sf_serial_crc16(out + 2, n - 2);
  out[n] = (uint8_t)(crc & 0xFF);
  out[n + 1] = (uint8_t)(crc >> 8);
  return n + 2;
}

void sf_serial_parser_init(sf_serial_parser *p) { memset(p, 0, sizeof *p); }

static int expected_len(uint8_t type) {
  switch (type) {
    case SF_SERIAL_OBS: return 72;
    case SF_SERIAL_MOTOR: return 16;
    case SF_SERIAL_RESET: return 0;
    default: return -1;
  }
}

int sf_serial_feed(sf_serial_parser *p, uint8_t byte, sf_serial_frame *frame) {
  switch (p->state) {
    case WAIT_SYNC0:
      if (byte == SF_SERIAL_SYNC0) p->state = WAIT_SYNC1;
      return 0;
    case WAIT_SYNC1:
      /* A repeated 0xA5 may itself start the frame. */
      p->state = byte == SF_SERIAL_SYNC1 ? WAIT_TYPE : (byte == SF_SERIAL_SYNC0 ? WAIT_SYNC1 : WAIT_SYNC0);
      return 0;
    case WAIT_TYPE:
      p->type = byte;
      p->state = WAIT_LEN;
      return 0;
    case WAIT_LEN:
      if (expected_len(p->type) != byte) {
        p->bad++;
        p->state = byte == SF_SERIAL_SYNC0 ? WAIT_SYNC1 : WAIT_SYNC0;
        return 0;
      }
      p->len = byte;
      p->got = 0;
      p->state = byte ? PAYLOAD : CRC_LO;
      return 0;
    case PAYLOAD:
      p->payload[p->got++] = byte;
      if (p->got == p->len) p->state = CRC_LO;
      return 0;
    case CRC_LO:
      p->crc = byte;
      p->state = CRC_HI;
      return 0;
    default: {
      p->crc |= (uint16_t)(byte << 8);
      p->state = WAIT_SYNC0;
      uint8_t buf[2 + SF_SERIAL_MAX_PAYLOAD]; /* the checksummed bytes: type, len, payload */
      buf[0] = p->type;
      buf[1] = p->len;
      memcpy(buf + 2, p->payload, p->len);
      if (sf_serial_crc16(buf, 2 + (size_t)p->len) != p->crc) {
        p->bad++;
        return 0;
      }
      frame->type = p->type;
      frame->count = p->len / 4;
      for (int i = 0; i < frame->count; ++i) frame->values[i] = get_f32(p->payload + 4 * i);
      return 1;
    }
  }
}

size_t sf_serial_handle(const sf_serial_frame *frame, void (*reset)(void),
                        void (*step)(const float *obs, float *motor), uint8_t *reply) {
  if (frame->type == SF_SERIAL_RESET) {
    reset();
    return 0;
  }
  if (frame->type != SF_SERIAL_OBS) return 0;
  float motor[4] = {-1.0f, -1.0f, -1.0f, -1.0f};
  int finite = 1;
  for (int i = 0; i < frame->count; ++i)
    if (!(frame->values[i] - frame->values[i] == 0.0f)) finite = 0; /* NaN or infinity */
  if (finite) {
    step(frame->values, motor);
    for (int i = 0; i < 4; ++i) {
      if (!(motor[i] >= -1.0f)) motor[i] = -1.0f; /* also NaN */
      if (motor[i] > 1.0f) motor[i] = 1.0f;
    }
  }
  return sf_serial_encode(SF_SERIAL_MOTOR, motor, 4, reply);
}
