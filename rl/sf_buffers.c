#include "rl/sf_buffers.h"

#include <stdlib.h>
#include <string.h>

enum { ALIGN = 64 };

size_t sf_buffer_bytes(const sf_buffer_spec *b) {
  size_t n = sf_st_dtype_size(b->dtype);
  for (int d = 0; d < b->ndim; ++d) n *= (size_t)b->shape[d];
  return n;
}

void sf_buffer_layout_make(sf_buffer_layout *l, const sf_buffer_spec *spec, int n) {
  memset(l, 0, sizeof *l);
  l->n = n;
  size_t at = 0;
  for (int i = 0; i < n; ++i) {
    l->spec[i] = spec[i];
    l->offset[i] = at;
    at += (sf_buffer_bytes(&spec[i]) + ALIGN - 1) / ALIGN * ALIGN;
  }
  l->bytes = at;
}

void sf_buffer_point(const sf_buffer_layout *l, void *fields, void *block) {
  for (int i = 0; i < l->n; ++i) {
    void *p = (char *)block + l->offset[i];
    memcpy((char *)fields + l->spec[i].field, &p, sizeof p);
  }
}

void *sf_buffer_alloc(const sf_buffer_layout *l, void *fields) {
  void *block = calloc(1, l->bytes ? l->bytes : 1);
  if (block) sf_buffer_point(l, fields, block);
  return block;
}

static void *field_ptr(const sf_buffer_layout *l, const void *fields, int i) {
  void *p;
  memcpy(&p, (const char *)fields + l->spec[i].field, sizeof p);
  return p;
}

void sf_buffer_save(const sf_buffer_layout *l, const void *fields, sf_st_writer *w) {
  for (int i = 0; i < l->n; ++i) {
    const sf_buffer_spec *b = &l->spec[i];
    sf_st_add(w, b->name, b->dtype, b->ndim, b->shape, field_ptr(l, fields, i));
  }
}

int sf_buffer_load(const sf_buffer_layout *l, void *fields, const sf_st_file *f, char *err, size_t errlen) {
  for (int i = 0; i < l->n; ++i) {
    const sf_buffer_spec *b = &l->spec[i];
    if (sf_st_read(f, b->name, b->dtype, b->ndim, b->shape, field_ptr(l, fields, i), err, errlen)) return -1;
  }
  return 0;
}

size_t sf_buffer_row_bytes(const sf_buffer_layout *l, int i) {
  const sf_buffer_spec *b = &l->spec[i];
  return sf_buffer_bytes(b) / (size_t)(b->shape[0] * b->shape[1]);
}

/* Agent p's first `rows` rows of buffer i, and where they go in a
 * [P][rows][...] tensor. */
static void row_span(const sf_buffer_layout *l, const void *fields, int i, int64_t rows, int64_t p, char **at,
                     size_t *packed, size_t *n) {
  const size_t rb = sf_buffer_row_bytes(l, i);
  *at = (char *)field_ptr(l, fields, i) + (size_t)p * (size_t)l->spec[i].shape[1] * rb;
  *packed = (size_t)p * (size_t)rows * rb;
  *n = (size_t)rows * rb;
}

void sf_buffer_save_rows(const sf_buffer_layout *l, const void *fields, int64_t rows, sf_st_writer *w) {
  for (int i = 0; i < l->n; ++i) {
    sf_buffer_spec b = l->spec[i];
    char *buf = malloc((size_t)b.shape[0] * (size_t)rows * sf_buffer_row_bytes(l, i) + 1);
    if (!buf) continue; /* the writer then lacks the tensor and the load says so */
    for (int64_t p = 0; p < b.shape[0]; ++p) {
      char *at;
      size_t packed, n;
      row_span(l, fields, i, rows, p, &at, &packed, &n);
      memcpy(buf + packed, at, n);
    }
    b.shape[1] = rows;
    sf_st_add_copy(w, b.name, b.dtype, b.ndim, b.shape, buf);
    free(buf);
  }
}

int sf_buffer_load_rows(const sf_buffer_layout *l, void *fields, int64_t rows, const sf_st_file *f, char *err,
                        size_t errlen) {
  for (int i = 0; i < l->n; ++i) {
    sf_buffer_spec b = l->spec[i];
    b.shape[1] = rows;
    const sf_st_tensor *st = sf_st_get(f, b.name, b.dtype, b.ndim, b.shape, err, errlen);
    if (!st) return -1;
    for (int64_t p = 0; p < b.shape[0]; ++p) {
      char *at;
      size_t packed, n;
      row_span(l, fields, i, rows, p, &at, &packed, &n);
      memcpy(at, (const char *)st->data + packed, n);
    }
  }
  return 0;
}
