/* TensorBoard event files: scalars a run logs, readable by TensorBoard (and
 * its EventAccumulator) without TensorFlow.
 *
 * A file `events.out.tfevents.<unix time>.<host>` in the run directory holds
 * records, each
 *   uint64 length (little-endian), uint32 masked CRC32C of those 8 bytes,
 *   `length` bytes of a serialised tf.Event protobuf, uint32 masked CRC32C
 *   of them,
 * where masked(c) = ((c >> 15) | (c << 17)) + 0xa282ead8. The first event
 * carries file_version "brain.Event:2"; each scalar is an Event {wall_time,
 * step, summary {value {tag, simple_value}}}. The protobuf is encoded here by
 * hand: the few fields needed do not justify a dependency. */
#ifndef SF_TFEVENTS_H
#define SF_TFEVENTS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The CRC stored in a record (see above). */
uint32_t sf_tb_masked_crc(const void *data, size_t n);

typedef struct sf_tb_writer sf_tb_writer;

/* Create a new event file in `run_dir` (created if missing). When a file of
 * that name exists already (a second writer within the same second), a
 * suffix .1, .2, ... keeps it apart. NULL on failure (message in err). */
sf_tb_writer *sf_tb_open(const char *run_dir, char *err, size_t errlen);

/* Append a scalar; wall_time in seconds since the epoch (fractions kept),
 * tag a non-empty name such as "train/return". Returns 0 or -1. */
int sf_tb_scalar(sf_tb_writer *w, const char *tag, int64_t step, float value, double wall_time);
/* Hand buffered records to the operating system (TensorBoard then sees
 * them). Returns 0 or -1. */
int sf_tb_flush(sf_tb_writer *w);
/* Flush, fsync and close; frees w. Returns 0, or -1 if this or any earlier
 * call failed (message in err). NULL is allowed. */
int sf_tb_close(sf_tb_writer *w, char *err, size_t errlen);

/* The file's path, and the first failure (NULL while all went well). */
const char *sf_tb_path(const sf_tb_writer *w);
const char *sf_tb_error(const sf_tb_writer *w);

/* Current time in seconds since the epoch, as wall_time expects. */
double sf_tb_now(void);

#ifdef __cplusplus
}
#endif
#endif
