/* Framed binary protocol between a flight controller and a companion board
 * running the exported network (the Teensy 4.0 carried on the Crazyflie):
 * the flight controller sends observations, the companion answers each with
 * motor commands.
 *
 * Frame: 0xA5 0x5A TYPE LEN PAYLOAD[LEN] CRC_LO CRC_HI
 *   TYPE  SF_SERIAL_OBS    payload 18 float32 (the observation), answered
 *                          by a SF_SERIAL_MOTOR frame
 *         SF_SERIAL_MOTOR  payload 4 float32 (actions in [-1, 1])
 *         SF_SERIAL_RESET  no payload: a new flight, reset the network
 *   floats little-endian IEEE-754; CRC-16/CCITT-FALSE (polynomial 0x1021,
 *   initial value 0xFFFF) over TYPE, LEN and PAYLOAD.
 * The parser takes one byte at a time, drops frames with a bad checksum,
 * unknown type or wrong length, and resynchronises on the next 0xA5 0x5A. */
#ifndef SF_SERIAL_H
#define SF_SERIAL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum { SF_SERIAL_OBS = 1, SF_SERIAL_MOTOR = 2, SF_SERIAL_RESET = 3 };
enum { SF_SERIAL_SYNC0 = 0xA5, SF_SERIAL_SYNC1 = 0x5A, SF_SERIAL_MAX_PAYLOAD = 72 };
/* Longest frame: sync (2) + type + len + 72 + crc (2). */
#define SF_SERIAL_MAX_FRAME (SF_SERIAL_MAX_PAYLOAD + 6)

uint16_t sf_serial_crc16(const uint8_t *data, size_t n);

/* Encodes a frame of `count` floats (0 for SF_SERIAL_RESET) into out
 * (room for SF_SERIAL_MAX_FRAME bytes). Returns its length. */
size_t sf_serial_encode(uint8_t type, const float *values, int count, uint8_t *out);

typedef struct {
  uint8_t type;
  int count;                                /* floats in values */
  float values[SF_SERIAL_MAX_PAYLOAD / 4];
} sf_serial_frame;

typedef struct {
  int state;      /* position in the frame */
  uint8_t type, len;
  uint8_t payload[SF_SERIAL_MAX_PAYLOAD];
  int got;        /* payload bytes received */
  uint16_t crc;   /* received checksum */
  uint32_t bad;   /* frames dropped (checksum, type or length) */
} sf_serial_parser;

void sf_serial_parser_init(sf_serial_parser *p);
/* Feeds one byte; returns 1 and fills *frame when it completes a valid one. */
int sf_serial_feed(sf_serial_parser *p, uint8_t byte, sf_serial_frame *frame);

/* The companion's whole job for one valid frame: an observation steps the
 * network through `step` and writes the motor frame to reply (returning its
 * length); a reset frame calls `reset` (no reply, 0). Motor frames
 * received are ignored (0). Non-finite observations give motor commands of
 * -1 (motors off) without stepping the network. */
size_t sf_serial_handle(const sf_serial_frame *frame, void (*reset)(void),
                        void (*step)(const float *obs, float *motor), uint8_t *reply);

#ifdef __cplusplus
}
#endif
#endif
