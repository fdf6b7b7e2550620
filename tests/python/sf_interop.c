/* The C side of the checks against Python's safetensors and TensorBoard:
 *
 *   sf_interop write DIR   writes DIR/sample.safetensors and an event file in
 *                          DIR/tb; the values follow the formulas below, which
 *                          check_safetensors.py and check_tfevents.py repeat.
 *   sf_interop read FILE   reads FILE as written by safetensors.numpy.save_file
 *                          in check_safetensors.py and checks its values.
 *
 * Exit status 0 when all went well, 1 with a message otherwise. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sf_safetensors.h"
#include "core/sf_tfevents.h"

/* Element i of the sample tensor of each dtype. */
static double sample_value(sf_st_dtype dt, int64_t i) {
  switch (dt) {
    case SF_ST_F32: return 0.25 * (double)i - 3.0;
    case SF_ST_F64: return 1.0 / 3.0 + 1e-3 * (double)i;
    case SF_ST_I32: return (double)(i * 1000 - 5000);
    case SF_ST_I64: return (double)(i * 4294967296ll - 7);
    case SF_ST_U32: return (double)(4000000000u - (uint32_t)i);
    case SF_ST_U64: return (double)((1ull << 53) - (uint64_t)i);
    case SF_ST_U8: return (double)((i * 37) % 256);
    default: return 0;
  }
}

static void store(sf_st_dtype dt, void *p, int64_t i, double v) {
  switch (dt) {
    case SF_ST_F32: ((float *)p)[i] = (float)v; break;
    case SF_ST_F64: ((double *)p)[i] = v; break;
    case SF_ST_I32: ((int32_t *)p)[i] = (int32_t)v; break;
    case SF_ST_I64: ((int64_t *)p)[i] = (int64_t)v; break;
    case SF_ST_U32: ((uint32_t *)p)[i] = (uint32_t)v; break;
    case SF_ST_U64: ((uint64_t *)p)[i] = (uint64_t)v; break;
    case SF_ST_U8: ((uint8_t *)p)[i] = (uint8_t)v; break;
    default: break;
  }
}

static double load(sf_st_dtype dt, const void *p, int64_t i) {
  switch (dt) {
    case SF_ST_F32: return ((const float *)p)[i];
    case SF_ST_F64: return ((const double *)p)[i];
    case SF_ST_I32: return ((const int32_t *)p)[i];
    case SF_ST_I64: return (double)((const int64_t *)p)[i];
    case SF_ST_U32: return ((const uint32_t *)p)[i];
    case SF_ST_U64: return (double)((const uint64_t *)p)[i];
    case SF_ST_U8: return ((const uint8_t *)p)[i];
    default: return 0;
  }
}

static const sf_st_dtype kinds[] = {SF_ST_F32, SF_ST_F64, SF_ST_I32, SF_ST_I64, SF_ST_U32, SF_ST_U64, SF_ST_U8};
enum { NKINDS = sizeof kinds / sizeof kinds[0] };
/* Shape of sample tensor k: [k+1, 3] for k even, [2, k+1, 2] for k odd. */
static int sample_shape(int k, int64_t *shape) {
  if (k % 2 == 0) {
    shape[0] = k + 1;
    shape[1] = 3;
    return 2;
  }
  shape[0] = 2;
  shape[1] = k + 1;
  shape[2] = 2;
  return 3;
}

static int write_files(const char *dir) {
  char path[4096], err[512];
  snprintf(path, sizeof path, "%s/sample.safetensors", dir);
  sf_st_writer *w = sf_st_writer_new();
  for (int k = 0; k < NKINDS; ++k) {
    int64_t shape[3];
    int nd = sample_shape(k, shape);
    int64_t n = 1;
    for (int d = 0; d < nd; ++d) n *= shape[d];
    void *buf = malloc((size_t)n * sf_st_dtype_size(kinds[k]));
    for (int64_t i = 0; i < n; ++i) store(kinds[k], buf, i, sample_value(kinds[k], i));
    char name[64];
    snprintf(name, sizeof name, "sample.%s", sf_st_dtype_name(kinds[k]));
    sf_st_add_copy(w, name, kinds[k], nd, shape, buf);
    free(buf);
  }
  float scalar = 42.5f;
  sf_st_add_copy(w, "scalar", SF_ST_F32, 0, NULL, &scalar);
  sf_st_set_meta(w, "epoch", "17");
  sf_st_set_meta(w, "config", "[train]\nlr = 0.0003\nname = \"quoted\" \\ back\n");
  int rc = sf_st_write(w, path, err, sizeof err);
  sf_st_writer_free(w);
  if (rc != 0) {
    fprintf(stderr, "sf_interop: %s\n", err);
    return 1;
  }

  snprintf(path, sizeof path, "%s/tb", dir);
  sf_tb_writer *tb = sf_tb_open(path, err, sizeof err);
  if (!tb) {
    fprintf(stderr, "sf_interop: %s\n", err);
    return 1;
  }
  /* Scalars: tag "train/return" value 1.5 * step - 2, "train/slope" value
   * 10 / (step + 1), steps 0..19, wall time 1.7e9 + step / 4. */
  for (int step = 0; step < 20; ++step) {
    double wall = 1.7e9 + step / 4.0;
    sf_tb_scalar(tb, "train/return", step * 1000, 1.5f * (float)step - 2.0f, wall);
    sf_tb_scalar(tb, "train/slope", step * 1000, 10.0f / (float)(step + 1), wall);
  }
  if (sf_tb_close(tb, err, sizeof err) != 0) {
    fprintf(stderr, "sf_interop: %s\n", err);
    return 1;
  }
  return 0;
}

/* check_safetensors.py saves tensors "py.<DTYPE>" of shape [4, 5] with
 * element i = sample_value, and metadata {"source": "numpy"}. */
static int read_file(const char *path) {
  char err[512];
  sf_st_file *f = sf_st_open(path, SF_ST_ALLOW_NO_CRC, err, sizeof err);
  if (!f) {
    fprintf(stderr, "sf_interop: %s\n", err);
    return 1;
  }
  int bad = 0;
  const char *src = sf_st_meta(f, "source");
  if (!src || strcmp(src, "numpy") != 0) {
    fprintf(stderr, "sf_interop: metadata 'source' is %s, expected numpy\n", src ? src : "absent");
    bad = 1;
  }
  if (sf_st_meta(f, SF_ST_CRC_KEY)) {
    fprintf(stderr, "sf_interop: a file written by numpy has a spikefly checksum\n");
    bad = 1;
  }
  for (int k = 0; k < NKINDS && !bad; ++k) {
    char name[64];
    snprintf(name, sizeof name, "py.%s", sf_st_dtype_name(kinds[k]));
    int64_t shape[2] = {4, 5};
    const sf_st_tensor *t = sf_st_get(f, name, kinds[k], 2, shape, err, sizeof err);
    if (!t) {
      fprintf(stderr, "sf_interop: %s\n", err);
      bad = 1;
      break;
    }
    for (int64_t i = 0; i < 20; ++i) {
      double want = sample_value(kinds[k], i);
      if (kinds[k] == SF_ST_F32) want = (float)want;
      if (load(kinds[k], t->data, i) != want) {
        fprintf(stderr, "sf_interop: %s[%lld] = %.17g, expected %.17g\n", name, (long long)i,
                load(kinds[k], t->data, i), want);
        bad = 1;
        break;
      }
    }
  }
  if (!bad) printf("sf_interop: %d tensors from numpy read and checked\n", sf_st_count(f));
  sf_st_close(f);
  return bad;
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "write") == 0) return write_files(argv[2]);
  if (argc == 3 && strcmp(argv[1], "read") == 0) return read_file(argv[2]);
  fprintf(stderr, "usage: sf_interop write DIR | read FILE\n");
  return 2;
}
