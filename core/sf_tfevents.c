/* TensorBoard event-file writer (format in sf_tfevents.h). */
#define _POSIX_C_SOURCE 200809L
#include "core/sf_tfevents.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/sf_fileio.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "event files are little-endian; this code writes host memory as is"
#endif

/* Tags longer than this are refused (TensorBoard shows a few dozen chars). */
#define SF_TB_MAX_TAG 256

struct sf_tb_writer {
  FILE *f;
  char *path;
  int failed;
  char err[512];
};

uint32_t sf_tb_masked_crc(const void *data, size_t n) {
  uint32_t c = sf_crc32c(0, data, n);
  return ((c >> 15) | (c << 17)) + 0xa282ead8u;
}

double sf_tb_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

const char *sf_tb_path(const sf_tb_writer *w) { return w->path; }
const char *sf_tb_error(const sf_tb_writer *w) { return w->failed ? w->err : NULL; }

static int tb_fail(sf_tb_writer *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int tb_fail(sf_tb_writer *w, const char *fmt, ...) {
  if (!w->failed) {
    w->failed = 1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->err, sizeof w->err, fmt, ap);
    va_end(ap);
  }
  return -1;
}

/* Protobuf wire format: field keys and base-128 varints. */
static size_t put_varint(unsigned char *p, uint64_t v) {
  size_t k = 0;
  while (v >= 0x80) {
    p[k++] = (unsigned char)(v | 0x80);
    v >>= 7;
  }
  p[k++] = (unsigned char)v;
  return k;
}

enum { WIRE_VARINT = 0, WIRE_I64 = 1, WIRE_LEN = 2, WIRE_I32 = 5 };

static size_t put_key(unsigned char *p, unsigned field, unsigned wire) { return put_varint(p, field << 3 | wire); }

static size_t put_bytes(unsigned char *p, unsigned field, const void *data, size_t n) {
  size_t k = put_key(p, field, WIRE_LEN);
  k += put_varint(p + k, n);
  memcpy(p + k, data, n);
  return k + n;
}

static size_t put_double(unsigned char *p, unsigned field, double v) {
  size_t k = put_key(p, field, WIRE_I64);
  memcpy(p + k, &v, 8);
  return k + 8;
}

static int write_record(sf_tb_writer *w, const unsigned char *data, size_t n) {
  if (w->failed) return -1;
  unsigned char head[12], tail[4];
  uint64_t len = n;
  memcpy(head, &len, 8);
  uint32_t c = sf_tb_masked_crc(head, 8);
  memcpy(head + 8, &c, 4);
  c = sf_tb_masked_crc(data, n);
  memcpy(tail, &c, 4);
  if (fwrite(head, 1, 12, w->f) != 12 || fwrite(data, 1, n, w->f) != n || fwrite(tail, 1, 4, w->f) != 4)
    return tb_fail(w, "cannot write '%s': %s", w->path, strerror(errno));
  return 0;
}

int sf_tb_scalar(sf_tb_writer *w, const char *tag, int64_t step, float value, double wall_time) {
  if (w->failed) return -1;
  size_t tn = tag ? strlen(tag) : 0;
  if (tn == 0 || tn > SF_TB_MAX_TAG)
    return tb_fail(w, "event file '%s': tag '%s' is empty or longer than %d bytes", w->path, tag ? tag : "",
                   SF_TB_MAX_TAG);
  /* Summary.Value {tag = 1, simple_value = 2} */
  unsigned char val[SF_TB_MAX_TAG + 16];
  size_t nv = put_bytes(val, 1, tag, tn);
  nv += put_key(val + nv, 2, WIRE_I32);
  memcpy(val + nv, &value, 4);
  nv += 4;
  /* Summary {value = 1} */
  unsigned char sum[SF_TB_MAX_TAG + 32];
  size_t ns = put_bytes(sum, 1, val, nv);
  /* Event {wall_time = 1, step = 2, summary = 5}; a negative step is a
   * ten-byte varint, as protobuf encodes int64. */
  unsigned char ev[SF_TB_MAX_TAG + 64];
  size_t ne = put_double(ev, 1, wall_time);
  ne += put_key(ev + ne, 2, WIRE_VARINT);
  ne += put_varint(ev + ne, (uint64_t)step);
  ne += put_bytes(ev + ne, 5, sum, ns);
  return write_record(w, ev, ne);
}

int sf_tb_flush(sf_tb_writer *w) {
  if (w->failed) return -1;
  if (fflush(w->f) != 0) return tb_fail(w, "cannot write '%s': %s", w->path, strerror(errno));
  return 0;
}

int sf_tb_close(sf_tb_writer *w, char *err, size_t errlen) {
  if (!w) return 0;
  if (!w->failed && fflush(w->f) != 0) tb_fail(w, "cannot write '%s': %s", w->path, strerror(errno));
  if (!w->failed && fsync(fileno(w->f)) != 0) tb_fail(w, "cannot sync '%s': %s", w->path, strerror(errno));
  if (fclose(w->f) != 0) tb_fail(w, "cannot close '%s': %s", w->path, strerror(errno));
  int rc = w->failed ? -1 : 0;
  if (rc) sf_set_err(err, errlen, "%s", w->err);
  free(w->path);
  free(w);
  return rc;
}

sf_tb_writer *sf_tb_open(const char *run_dir, char *err, size_t errlen) {
  if (sf_mkdirs(run_dir, err, errlen) != 0) return NULL;
  char host[256];
  if (gethostname(host, sizeof host) != 0 || !host[0]) snprintf(host, sizeof host, "localhost");
  host[sizeof host - 1] = 0;
  for (char *c = host; *c; ++c)
    if (*c == '/') *c = '_';
  long now = (long)time(NULL);
  size_t cap = strlen(run_dir) + strlen(host) + 64;
  char *path = malloc(cap);
  sf_tb_writer *w = calloc(1, sizeof *w);
  if (!path || !w) {
    sf_set_err(err, errlen, "cannot create an event file in '%s': out of memory", run_dir);
    free(path);
    free(w);
    return NULL;
  }
  int fd = -1;
  for (int k = 0; k < 1000 && fd < 0; ++k) {
    int n = snprintf(path, cap, "%s/events.out.tfevents.%ld.%s", run_dir, now, host);
    if (k) snprintf(path + n, cap - (size_t)n, ".%d", k);
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0 && errno != EEXIST) break;
  }
  if (fd < 0 || !(w->f = fdopen(fd, "wb"))) {
    sf_set_err(err, errlen, "cannot create event file '%s': %s", path, strerror(errno));
    if (fd >= 0) close(fd);
    free(path);
    free(w);
    return NULL;
  }
  w->path = path;
  /* Event {wall_time = 1, file_version = 3}: marks the file's format. */
  static const char version[] = "brain.Event:2";
  unsigned char ev[64];
  size_t ne = put_double(ev, 1, sf_tb_now());
  ne += put_bytes(ev + ne, 3, version, sizeof version - 1);
  if (write_record(w, ev, ne) != 0 || sf_tb_flush(w) != 0) {
    sf_set_err(err, errlen, "%s", w->err);
    fclose(w->f);
    unlink(path);
    free(path);
    free(w);
    return NULL;
  }
  return w;
}
