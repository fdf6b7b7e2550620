/* libFuzzer harness of the safetensors reader (core/sf_safetensors.c).
 *
 * Input: a whole file. The reader must refuse it with a message or accept
 * it; an accepted file is then used as a checkpoint loader would (lookups
 * with the right and a wrong shape, copies, metadata), written again with
 * the writer into the working directory and read back, and the two must
 * agree tensor by tensor. Any crash, leak, undefined behaviour or
 * disagreement is a finding. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/sf_safetensors.h"

static void check_same(const sf_st_file *a, const sf_st_file *b) {
  if (sf_st_count(a) != sf_st_count(b)) abort();
  char err[512];
  for (int i = 0; i < sf_st_count(a); ++i) {
    const sf_st_tensor *t = sf_st_tensor_at(a, i);
    const sf_st_tensor *u = sf_st_get(b, t->name, t->dtype, t->ndim, t->shape, err, sizeof err);
    if (!u || u->nbytes != t->nbytes || (t->nbytes && memcmp(t->data, u->data, t->nbytes))) abort();
  }
  for (int i = 0; i < sf_st_meta_count(a); ++i) {
    const char *k, *v;
    sf_st_meta_at(a, i, &k, &v);
    if (strcmp(k, SF_ST_CRC_KEY) == 0 || strcmp(k, SF_ST_CONTENT_CRC_KEY) == 0) continue;
    const char *w = sf_st_meta(b, k);
    if (!w || strcmp(v, w) != 0) abort();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char err[512] = "";
  sf_st_file *f = sf_st_parse(data, size, "fuzz", SF_ST_ALLOW_NO_CRC, err, sizeof err);
  if (!f) {
    if (!err[0]) abort(); /* every refusal has a message */
    return 0;
  }
  sf_st_writer *w = sf_st_writer_new();
  for (int i = 0; i < sf_st_count(f); ++i) {
    const sf_st_tensor *t = sf_st_tensor_at(f, i);
    if (sf_st_get(f, t->name, t->dtype, t->ndim, t->shape, err, sizeof err) != t) abort();
    int64_t wrong[SF_ST_MAX_DIMS + 1];
    memcpy(wrong, t->shape, sizeof t->shape);
    wrong[t->ndim] = 1;
    if (sf_st_get(f, t->name, t->dtype, t->ndim + 1, wrong, err, sizeof err)) abort();
    void *copy = malloc(t->nbytes ? t->nbytes : 1);
    if (sf_st_read(f, t->name, t->dtype, t->ndim, t->shape, copy, err, sizeof err) != 0) abort();
    if (t->nbytes && memcmp(copy, t->data, t->nbytes) != 0) abort();
    free(copy);
    sf_st_add(w, t->name, t->dtype, t->ndim, t->shape, t->data);
  }
  for (int i = 0; i < sf_st_meta_count(f); ++i) {
    const char *k, *v;
    sf_st_meta_at(f, i, &k, &v);
    if (sf_st_meta_require(f, k, err, sizeof err) == NULL) abort();
    if (strcmp(k, SF_ST_CRC_KEY) != 0 && strcmp(k, SF_ST_CONTENT_CRC_KEY) != 0) sf_st_set_meta(w, k, v);
  }
  /* Names the writer refuses (control characters) are fine to read; the
   * round trip covers the files it can write. */
  if (!sf_st_writer_error(w)) {
    char path[64];
    snprintf(path, sizeof path, "fuzz-%ld.safetensors", (long)getpid());
    if (sf_st_write(w, path, err, sizeof err) != 0) abort();
    sf_st_file *g = sf_st_open(path, 0, err, sizeof err);
    if (!g) abort();
    check_same(f, g);
    check_same(g, f);
    sf_st_close(g);
    unlink(path);
  }
  sf_st_writer_free(w);
  sf_st_close(f);
  return 0;
}
