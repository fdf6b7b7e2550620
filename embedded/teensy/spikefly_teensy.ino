// Arduino glue for a Teensy 4.0 running an exported spikefly controller as a
// companion of the flight controller: observations arrive as frames on
// Serial1 (see sf_serial.h), each is answered with a motor frame. Copy into
// this sketch's folder: from the exported directory sf_ctrl.h, sf_ctrl.c,
// sf_ctrl_weights.h and the kernel (sf_ctrl_i8.h/.c or sf_ctrl_f32.h/.c;
// sf_ctrl.c includes the kernel's .c, the separately compiled copy is unused
// and dropped at link time), but not sf_ctrl_selftest.c (a program of its
// own); and embedded/sf_serial.c/.h.
extern "C" {
#include "sf_ctrl.h"
#include "sf_serial.h"
}

static sf_serial_parser parser;

void setup() {
  Serial1.begin(921600);
  sf_serial_parser_init(&parser);
  sf_ctrl_reset();
}

void loop() {
  while (Serial1.available() > 0) {
    sf_serial_frame frame;
    if (sf_serial_feed(&parser, (uint8_t)Serial1.read(), &frame)) {
      uint8_t reply[SF_SERIAL_MAX_FRAME];
      size_t n = sf_serial_handle(&frame, sf_ctrl_reset, sf_ctrl_step, reply);
      if (n > 0) Serial1.write(reply, n);
    }
  }
}
