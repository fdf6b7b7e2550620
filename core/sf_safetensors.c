/* safetensors writer and strict reader (format in sf_safetensors.h). */
#include "core/sf_safetensors.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sf_fileio.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "safetensors data is little-endian; this code writes host memory as is"
#endif

/* The Python/Rust implementation refuses larger headers too. */
#define SF_ST_MAX_HEADER 100000000ull

static const struct {
  const char *name;
  size_t size;
} dtypes[SF_ST_NDTYPES] = {
    [SF_ST_BOOL] = {"BOOL", 1},       [SF_ST_U8] = {"U8", 1},           [SF_ST_I8] = {"I8", 1},
    [SF_ST_F8_E5M2] = {"F8_E5M2", 1}, [SF_ST_F8_E4M3] = {"F8_E4M3", 1}, [SF_ST_U16] = {"U16", 2},
    [SF_ST_I16] = {"I16", 2},         [SF_ST_F16] = {"F16", 2},         [SF_ST_BF16] = {"BF16", 2},
    [SF_ST_U32] = {"U32", 4},         [SF_ST_I32] = {"I32", 4},         [SF_ST_F32] = {"F32", 4},
    [SF_ST_U64] = {"U64", 8},         [SF_ST_I64] = {"I64", 8},         [SF_ST_F64] = {"F64", 8},
};

const char *sf_st_dtype_name(sf_st_dtype dt) {
  return (unsigned)dt < SF_ST_NDTYPES ? dtypes[dt].name : NULL;
}

size_t sf_st_dtype_size(sf_st_dtype dt) { return (unsigned)dt < SF_ST_NDTYPES ? dtypes[dt].size : 0; }

static int dtype_from_name(const char *s) {
  for (int i = 0; i < SF_ST_NDTYPES; ++i)
    if (strcmp(s, dtypes[i].name) == 0) return i;
  return -1;
}

static char *dup_str(const char *s) {
  size_t n = strlen(s) + 1;
  char *r = malloc(n);
  if (r) memcpy(r, s, n);
  return r;
}

/* Length of the valid UTF-8 sequence at s[0..n), or 0 if there is none
 * (overlong forms, surrogates and code points past U+10FFFF are invalid). */
static size_t utf8_seq(const unsigned char *s, size_t n) {
  unsigned c = s[0];
  if (c < 0x80) return 1;
  size_t len;
  unsigned lo = 0x80, hi = 0xbf;
  if (c >= 0xc2 && c <= 0xdf) {
    len = 2;
  } else if (c >= 0xe0 && c <= 0xef) {
    len = 3;
    if (c == 0xe0) lo = 0xa0;
    if (c == 0xed) hi = 0x9f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    len = 4;
    if (c == 0xf0) lo = 0x90;
    if (c == 0xf4) hi = 0x8f;
  } else {
    return 0;
  }
  if (n < len) return 0;
  if (s[1] < lo || s[1] > hi) return 0;
  for (size_t i = 2; i < len; ++i)
    if (s[i] < 0x80 || s[i] > 0xbf) return 0;
  return len;
}

static int utf8_valid(const char *s, size_t n) {
  const unsigned char *p = (const unsigned char *)s;
  for (size_t i = 0; i < n;) {
    size_t k = utf8_seq(p + i, n - i);
    if (!k) return 0;
    i += k;
  }
  return 1;
}

/* Shape as "[256,17]" for messages. */
static void shape_str(char *out, size_t cap, int ndim, const int64_t *shape) {
  size_t k = (size_t)snprintf(out, cap, "[");
  for (int d = 0; d < ndim && k < cap; ++d)
    k += (size_t)snprintf(out + k, cap - k, "%s%lld", d ? "," : "", (long long)shape[d]);
  if (k < cap) snprintf(out + k, cap - k, "]");
}

/* Elements and bytes of a shape; -1 on a negative extent or overflow. */
static int shape_size(int ndim, const int64_t *shape, size_t elsize, uint64_t *numel, uint64_t *nbytes) {
  uint64_t n = 1;
  for (int d = 0; d < ndim; ++d) {
    if (shape[d] < 0 || __builtin_mul_overflow(n, (uint64_t)shape[d], &n)) return -1;
  }
  uint64_t b;
  if (__builtin_mul_overflow(n, (uint64_t)elsize, &b) || b > (uint64_t)SIZE_MAX) return -1;
  *numel = n;
  *nbytes = b;
  return 0;
}

/* ---- the content checksum ----------------------------------------------- */

/* One tensor or metadata entry as the content checksum sees it. */
typedef struct {
  const char *name; /* tensor name, or metadata key */
  const char *value;/* metadata value; NULL for a tensor */
  const char *dtype;
  int ndim;
  uint64_t shape[SF_ST_MAX_DIMS];
  const void *data;
  size_t nbytes;
} sf_citem;

static int citem_cmp(const void *a, const void *b) {
  return strcmp(((const sf_citem *)a)->name, ((const sf_citem *)b)->name);
}

static uint32_t crc_u64(uint32_t crc, uint64_t v) {
  unsigned char b[8];
  for (int i = 0; i < 8; ++i) b[i] = (unsigned char)(v >> (8 * i));
  return sf_crc32c(crc, b, 8);
}

/* The content checksum (see SF_ST_CONTENT_CRC_KEY) of meta[0..nm) and
 * tensors[0..n), both sorted here in place. */
static uint32_t content_crc(sf_citem *meta, int nm, sf_citem *tensors, int n) {
  qsort(meta, (size_t)nm, sizeof *meta, citem_cmp);
  qsort(tensors, (size_t)n, sizeof *tensors, citem_cmp);
  uint32_t crc = 0;
  for (int i = 0; i < nm; ++i) {
    if (strcmp(meta[i].name, SF_ST_CONTENT_CRC_KEY) == 0) continue;
    crc = sf_crc32c(crc, meta[i].name, strlen(meta[i].name) + 1);
    crc = sf_crc32c(crc, meta[i].value, strlen(meta[i].value) + 1);
  }
  for (int i = 0; i < n; ++i) {
    const sf_citem *t = &tensors[i];
    crc = sf_crc32c(crc, t->name, strlen(t->name) + 1);
    crc = sf_crc32c(crc, t->dtype, strlen(t->dtype) + 1);
    crc = crc_u64(crc, (uint64_t)t->ndim);
    for (int d = 0; d < t->ndim; ++d) crc = crc_u64(crc, t->shape[d]);
    crc = sf_crc32c(crc, t->data, t->nbytes);
  }
  return crc;
}

/* ---- writer ----------------------------------------------------------- */

typedef struct {
  char *name;
  sf_st_dtype dt;
  int ndim;
  int64_t shape[SF_ST_MAX_DIMS];
  size_t nbytes;
  const void *data;
  void *owned;
} sf_wtensor;

struct sf_st_writer {
  sf_wtensor *t;
  int n, cap;
  char **mkey, **mval;
  int nm, capm;
  char err[512];
};

sf_st_writer *sf_st_writer_new(void) { return calloc(1, sizeof(sf_st_writer)); }

void sf_st_writer_free(sf_st_writer *w) {
  if (!w) return;
  for (int i = 0; i < w->n; ++i) {
    free(w->t[i].name);
    free(w->t[i].owned);
  }
  for (int i = 0; i < w->nm; ++i) {
    free(w->mkey[i]);
    free(w->mval[i]);
  }
  free(w->t);
  free(w->mkey);
  free(w->mval);
  free(w);
}

const char *sf_st_writer_error(const sf_st_writer *w) { return w->err[0] ? w->err : NULL; }

static int wfail(sf_st_writer *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int wfail(sf_st_writer *w, const char *fmt, ...) {
  if (!w->err[0]) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->err, sizeof w->err, fmt, ap);
    va_end(ap);
  }
  return -1;
}

/* Names and keys: non-empty UTF-8 without control characters. */
static int name_ok(const char *s) {
  size_t n = strlen(s);
  if (!n || !utf8_valid(s, n)) return 0;
  for (size_t i = 0; i < n; ++i)
    if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) return 0;
  return 1;
}

static int add_tensor(sf_st_writer *w, const char *name, sf_st_dtype dt, int ndim, const int64_t *shape,
                      const void *data, int copy) {
  if (!name || !name_ok(name)) return wfail(w, "tensor name '%s' is empty, not UTF-8 or has control characters", name ? name : "");
  if (strcmp(name, "__metadata__") == 0) return wfail(w, "tensor name '__metadata__' is reserved");
  for (int i = 0; i < w->n; ++i)
    if (strcmp(w->t[i].name, name) == 0) return wfail(w, "tensor '%s' added twice", name);
  if ((unsigned)dt >= SF_ST_NDTYPES) return wfail(w, "tensor '%s': unknown dtype %d", name, (int)dt);
  if (ndim < 0 || ndim > SF_ST_MAX_DIMS) return wfail(w, "tensor '%s': %d dimensions (at most %d)", name, ndim, SF_ST_MAX_DIMS);
  uint64_t numel, nbytes;
  if (shape_size(ndim, shape, dtypes[dt].size, &numel, &nbytes) != 0) {
    char s[160];
    shape_str(s, sizeof s, ndim, shape);
    return wfail(w, "tensor '%s': invalid shape %s", name, s);
  }
  if (nbytes && !data) return wfail(w, "tensor '%s': no data", name);
  if (w->n == w->cap) {
    int cap = w->cap ? 2 * w->cap : 16;
    sf_wtensor *t = realloc(w->t, (size_t)cap * sizeof *t);
    if (!t) return wfail(w, "out of memory adding tensor '%s'", name);
    w->t = t;
    w->cap = cap;
  }
  sf_wtensor *t = &w->t[w->n];
  memset(t, 0, sizeof *t);
  t->name = dup_str(name);
  if (copy && nbytes) {
    t->owned = malloc((size_t)nbytes);
    if (t->owned) memcpy(t->owned, data, (size_t)nbytes);
  }
  if (!t->name || (copy && nbytes && !t->owned)) {
    free(t->name);
    free(t->owned);
    return wfail(w, "out of memory adding tensor '%s'", name);
  }
  t->dt = dt;
  t->ndim = ndim;
  for (int d = 0; d < ndim; ++d) t->shape[d] = shape[d];
  t->nbytes = (size_t)nbytes;
  t->data = t->owned ? t->owned : data;
  w->n++;
  return 0;
}

int sf_st_add(sf_st_writer *w, const char *name, sf_st_dtype dt, int ndim, const int64_t *shape,
              const void *data) {
  return add_tensor(w, name, dt, ndim, shape, data, 0);
}

int sf_st_add_copy(sf_st_writer *w, const char *name, sf_st_dtype dt, int ndim, const int64_t *shape,
                   const void *data) {
  return add_tensor(w, name, dt, ndim, shape, data, 1);
}

int sf_st_set_meta(sf_st_writer *w, const char *key, const char *value) {
  if (!key || !name_ok(key)) return wfail(w, "metadata key '%s' is empty, not UTF-8 or has control characters", key ? key : "");
  if (strcmp(key, SF_ST_CRC_KEY) == 0 || strcmp(key, SF_ST_CONTENT_CRC_KEY) == 0)
    return wfail(w, "metadata key '%s' is reserved for the checksum", key);
  if (!value || !utf8_valid(value, strlen(value))) return wfail(w, "metadata '%s': value is not UTF-8", key);
  char *v = dup_str(value);
  if (!v) return wfail(w, "out of memory setting metadata '%s'", key);
  for (int i = 0; i < w->nm; ++i)
    if (strcmp(w->mkey[i], key) == 0) {
      free(w->mval[i]);
      w->mval[i] = v;
      return 0;
    }
  if (w->nm == w->capm) {
    int cap = w->capm ? 2 * w->capm : 16;
    char **k = realloc(w->mkey, (size_t)cap * sizeof *k);
    if (k) w->mkey = k;
    char **vv = k ? realloc(w->mval, (size_t)cap * sizeof *vv) : NULL;
    if (vv) w->mval = vv;
    if (!k || !vv) {
      free(v);
      return wfail(w, "out of memory setting metadata '%s'", key);
    }
    w->capm = cap;
  }
  char *k = dup_str(key);
  if (!k) {
    free(v);
    return wfail(w, "out of memory setting metadata '%s'", key);
  }
  w->mkey[w->nm] = k;
  w->mval[w->nm] = v;
  w->nm++;
  return 0;
}

/* A growing byte string; `failed` once an allocation failed. */
typedef struct {
  char *p;
  size_t n, cap;
  int failed;
} sf_sbuf;

static void sb_put(sf_sbuf *b, const char *s, size_t n) {
  if (b->failed) return;
  if (b->n + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->n + n + 1) cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
      b->failed = 1;
      return;
    }
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->n, s, n);
  b->n += n;
  b->p[b->n] = 0;
}

static void sb_puts(sf_sbuf *b, const char *s) { sb_put(b, s, strlen(s)); }

static void sb_printf(sf_sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sf_sbuf *b, const char *fmt, ...) {
  char tmp[64];
  va_list ap;
  va_start(ap, fmt);
  int k = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (k < 0 || (size_t)k >= sizeof tmp) {
    b->failed = 1;
    return;
  }
  sb_put(b, tmp, (size_t)k);
}

/* A JSON string literal; the input is valid UTF-8, passed through as is. */
static void sb_json_str(sf_sbuf *b, const char *s) {
  sb_puts(b, "\"");
  for (; *s; ++s) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') {
      char e[2] = {'\\', (char)c};
      sb_put(b, e, 2);
    } else if (c == '\n') {
      sb_puts(b, "\\n");
    } else if (c == '\t') {
      sb_puts(b, "\\t");
    } else if (c == '\r') {
      sb_puts(b, "\\r");
    } else if (c < 0x20) {
      sb_printf(b, "\\u%04x", c);
    } else {
      sb_put(b, (const char *)&c, 1);
    }
  }
  sb_puts(b, "\"");
}

static void put_le64(unsigned char *p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_le64(const unsigned char *p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= (uint64_t)p[i] << (8 * i);
  return v;
}

int sf_st_write(sf_st_writer *w, const char *path, char *err, size_t errlen) {
  if (w->err[0]) {
    sf_set_err(err, errlen, "cannot write '%s': %s", path, w->err);
    return -1;
  }
  /* Data order: decreasing element size, stable, so every tensor starts at
   * an offset that is a multiple of its element size. */
  int *order = malloc((size_t)(w->n ? w->n : 1) * sizeof *order);
  if (!order) {
    sf_set_err(err, errlen, "cannot write '%s': out of memory", path);
    return -1;
  }
  int k = 0;
  for (size_t size = 8; size >= 1; size /= 2)
    for (int i = 0; i < w->n; ++i)
      if (dtypes[w->t[i].dt].size == size) order[k++] = i;

  sf_sbuf h = {0};
  sb_puts(&h, "{\"__metadata__\":{");
  for (int i = 0; i < w->nm; ++i) {
    sb_json_str(&h, w->mkey[i]);
    sb_puts(&h, ":");
    sb_json_str(&h, w->mval[i]);
    sb_puts(&h, ",");
  }
  sb_puts(&h, "\"" SF_ST_CONTENT_CRC_KEY "\":\"");
  size_t ccrc_pos = h.n;
  sb_puts(&h, "00000000\",\"" SF_ST_CRC_KEY "\":\"");
  size_t crc_pos = h.n;
  sb_puts(&h, "00000000\"}");
  uint64_t off = 0;
  for (int j = 0; j < w->n; ++j) {
    const sf_wtensor *t = &w->t[order[j]];
    sb_puts(&h, ",");
    sb_json_str(&h, t->name);
    sb_printf(&h, ":{\"dtype\":\"%s\",\"shape\":[", dtypes[t->dt].name);
    for (int d = 0; d < t->ndim; ++d) sb_printf(&h, "%s%lld", d ? "," : "", (long long)t->shape[d]);
    sb_printf(&h, "],\"data_offsets\":[%llu,", (unsigned long long)off);
    off += t->nbytes;
    sb_printf(&h, "%llu]}", (unsigned long long)off);
  }
  sb_puts(&h, "}");
  while (h.n % 8) sb_puts(&h, " ");
  sf_citem *ci = calloc((size_t)(w->n + w->nm + 2), sizeof *ci);
  if (h.failed || !ci) {
    free(h.p);
    free(ci);
    free(order);
    sf_set_err(err, errlen, "cannot write '%s': out of memory", path);
    return -1;
  }

  /* The file checksum first (both digit fields '0'), then the content
   * checksum, which covers the file checksum's value. */
  unsigned char prefix[8];
  put_le64(prefix, h.n);
  uint32_t crc = sf_crc32c(0, prefix, 8);
  crc = sf_crc32c(crc, h.p, h.n);
  for (int j = 0; j < w->n; ++j) crc = sf_crc32c(crc, w->t[order[j]].data, w->t[order[j]].nbytes);
  char hex[9], chex[9];
  snprintf(hex, sizeof hex, "%08x", crc);
  memcpy(h.p + crc_pos, hex, 8);
  for (int i = 0; i < w->nm; ++i) ci[i] = (sf_citem){.name = w->mkey[i], .value = w->mval[i]};
  ci[w->nm] = (sf_citem){.name = SF_ST_CRC_KEY, .value = hex};
  sf_citem *ct = ci + w->nm + 1;
  for (int i = 0; i < w->n; ++i) {
    ct[i] = (sf_citem){.name = w->t[i].name, .dtype = dtypes[w->t[i].dt].name, .ndim = w->t[i].ndim,
                       .data = w->t[i].data, .nbytes = w->t[i].nbytes};
    for (int d = 0; d < w->t[i].ndim; ++d) ct[i].shape[d] = (uint64_t)w->t[i].shape[d];
  }
  snprintf(chex, sizeof chex, "%08x", content_crc(ci, w->nm + 1, ct, w->n));
  memcpy(h.p + ccrc_pos, chex, 8);
  free(ci);

  int rc = -1;
  sf_afile *f = sf_afile_open(path, err, errlen);
  if (f) {
    sf_afile_write(f, prefix, 8);
    sf_afile_write(f, h.p, h.n);
    for (int j = 0; j < w->n; ++j) sf_afile_write(f, w->t[order[j]].data, w->t[order[j]].nbytes);
    rc = sf_afile_commit(f, err, errlen);
  }
  free(h.p);
  free(order);
  return rc;
}

/* ---- reader ----------------------------------------------------------- */

struct sf_st_file {
  char *label;
  unsigned char *buf;  /* the file */
  unsigned char *data; /* its data section, 16-byte aligned */
  sf_st_tensor *t;
  int n;
  char **mkey, **mval;
  int nm;
  int checksummed; /* a checksum verified the file */
};

int sf_st_checksummed(const sf_st_file *f) { return f->checksummed; }

void sf_st_note_unchecked(const sf_st_file *f, const char *path, char *err, size_t errlen) {
  if (f->checksummed)
    sf_set_err(err, errlen, "%s", "");
  else
    sf_set_err(err, errlen,
            "note: %s is not checksummed (no spikefly checksum: written or re-saved by another tool); its tensors "
            "were checked for names, dtypes, shapes and finite values", path);
}

void sf_st_close(sf_st_file *f) {
  if (!f) return;
  for (int i = 0; i < f->n; ++i) free((char *)f->t[i].name);
  for (int i = 0; i < f->nm; ++i) {
    free(f->mkey[i]);
    free(f->mval[i]);
  }
  free(f->t);
  free(f->mkey);
  free(f->mval);
  free(f->buf);
  free(f->label);
  free(f);
}

/* Strict parser of the header subset of JSON. */
typedef struct {
  const char *s;
  size_t n, i;
  const char *label;
  char *err;
  size_t errlen;
  int failed;
} sf_jp;

static int jfail(sf_jp *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int jfail(sf_jp *p, const char *fmt, ...) {
  if (p->failed) return -1;
  p->failed = 1;
  char msg[320];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  /* Offsets count from the start of the file (the header starts at 8). */
  sf_set_err(p->err, p->errlen, "%s: bad header at byte %zu: %s", p->label, p->i + 8, msg);
  return -1;
}

/* A character for a message: 'x', or its code when it is not printable. */
static const char *show_char(char c, char buf[16]) {
  unsigned char u = (unsigned char)c;
  if (u >= 0x20 && u < 0x7f)
    snprintf(buf, 16, "'%c'", c);
  else
    snprintf(buf, 16, "byte 0x%02x", u);
  return buf;
}

static void jws(sf_jp *p) {
  while (p->i < p->n && (p->s[p->i] == ' ' || p->s[p->i] == '\t' || p->s[p->i] == '\n' || p->s[p->i] == '\r'))
    ++p->i;
}

static int jexpect(sf_jp *p, char c, const char *what) {
  jws(p);
  if (p->i >= p->n) return jfail(p, "header ends where %s was expected", what);
  char b[16];
  if (p->s[p->i] != c) return jfail(p, "expected %s, found %s", what, show_char(p->s[p->i], b));
  ++p->i;
  return 0;
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static int j_u4(sf_jp *p, unsigned *cp) {
  if (p->n - p->i < 4) return jfail(p, "truncated \\u escape");
  unsigned v = 0;
  for (int k = 0; k < 4; ++k) {
    int h = hexval(p->s[p->i + (size_t)k]);
    if (h < 0) return jfail(p, "bad \\u escape");
    v = v * 16 + (unsigned)h;
  }
  p->i += 4;
  *cp = v;
  return 0;
}

/* Code point cp (1..0x10FFFF, not a surrogate) as UTF-8. */
static void sb_utf8(sf_sbuf *b, unsigned cp) {
  char u[4];
  size_t k;
  if (cp < 0x80) {
    u[0] = (char)cp;
    k = 1;
  } else if (cp < 0x800) {
    u[0] = (char)(0xc0 | (cp >> 6));
    u[1] = (char)(0x80 | (cp & 0x3f));
    k = 2;
  } else if (cp < 0x10000) {
    u[0] = (char)(0xe0 | (cp >> 12));
    u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
    u[2] = (char)(0x80 | (cp & 0x3f));
    k = 3;
  } else {
    u[0] = (char)(0xf0 | (cp >> 18));
    u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    u[3] = (char)(0x80 | (cp & 0x3f));
    k = 4;
  }
  sb_put(b, u, k);
}

/* The escape after a backslash (p->i is past the backslash) appended to b. */
static int jescape(sf_jp *p, sf_sbuf *b) {
  if (p->i >= p->n) return jfail(p, "unterminated string");
  static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
  char e = p->s[p->i];
  const char *hit = e ? strchr(from, e) : NULL;
  if (hit) {
    sb_put(b, &to[hit - from], 1);
    ++p->i;
    return 0;
  }
  char cb[16];
  if (e != 'u') return jfail(p, "bad escape: backslash and %s", show_char(e, cb));
  ++p->i;
  unsigned cp, lo;
  if (j_u4(p, &cp) != 0) return -1;
  if (cp >= 0xdc00 && cp <= 0xdfff) return jfail(p, "unpaired surrogate in a \\u escape");
  if (cp >= 0xd800 && cp <= 0xdbff) {
    if (p->n - p->i < 2 || p->s[p->i] != '\\' || p->s[p->i + 1] != 'u')
      return jfail(p, "unpaired surrogate in a \\u escape");
    p->i += 2;
    if (j_u4(p, &lo) != 0) return -1;
    if (lo < 0xdc00 || lo > 0xdfff) return jfail(p, "unpaired surrogate in a \\u escape");
    cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
  }
  if (cp == 0) return jfail(p, "NUL character in a string");
  sb_utf8(b, cp);
  return 0;
}

/* A string into a malloc'ed NUL-terminated copy; *raw is where its
 * characters start in the header text (the checksum digits are found so). */
static int jstring(sf_jp *p, char **out, size_t *raw) {
  *out = NULL;
  if (jexpect(p, '"', "a string") != 0) return -1;
  if (raw) *raw = p->i;
  sf_sbuf b = {0};
  sb_put(&b, "", 0);
  while (1) {
    if (p->i >= p->n) {
      jfail(p, "unterminated string");
      break;
    }
    unsigned char c = (unsigned char)p->s[p->i];
    if (c == '"') {
      ++p->i;
      if (b.failed) break;
      *out = b.p;
      return 0;
    }
    if (c < 0x20) {
      jfail(p, "control character in a string");
      break;
    }
    if (c == '\\') {
      ++p->i;
      if (jescape(p, &b) != 0) break;
      continue;
    }
    size_t k = utf8_seq((const unsigned char *)p->s + p->i, p->n - p->i);
    if (!k) {
      jfail(p, "invalid UTF-8 in a string");
      break;
    }
    sb_put(&b, p->s + p->i, k);
    p->i += k;
  }
  if (b.failed) jfail(p, "out of memory");
  free(b.p);
  return -1;
}

/* A non-negative integer without sign, fraction or exponent. */
static int juint(sf_jp *p, uint64_t *out, const char *what) {
  jws(p);
  if (p->i >= p->n) return jfail(p, "header ends where %s was expected", what);
  char c = p->s[p->i];
  if (c == '-') return jfail(p, "%s is negative", what);
  if (c < '0' || c > '9') return jfail(p, "%s is not a number", what);
  if (c == '0' && p->i + 1 < p->n && p->s[p->i + 1] >= '0' && p->s[p->i + 1] <= '9')
    return jfail(p, "%s has a leading zero", what);
  uint64_t v = 0;
  while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9') {
    if (__builtin_mul_overflow(v, 10u, &v) || __builtin_add_overflow(v, (uint64_t)(p->s[p->i] - '0'), &v))
      return jfail(p, "%s is too large", what);
    ++p->i;
  }
  if (p->i < p->n && (p->s[p->i] == '.' || p->s[p->i] == 'e' || p->s[p->i] == 'E'))
    return jfail(p, "%s is not an integer", what);
  *out = v;
  return 0;
}

/* '[' uint (',' uint)* ']' or '[]'; at most cap values. */
static int juint_array(sf_jp *p, uint64_t *out, int cap, int *count, const char *what) {
  *count = 0;
  if (jexpect(p, '[', what) != 0) return -1;
  jws(p);
  if (p->i < p->n && p->s[p->i] == ']') {
    ++p->i;
    return 0;
  }
  while (1) {
    if (*count == cap) return jfail(p, "%s has more than %d entries", what, cap);
    if (juint(p, &out[*count], what) != 0) return -1;
    ++*count;
    jws(p);
    if (p->i >= p->n) return jfail(p, "header ends inside %s", what);
    char c = p->s[p->i++];
    if (c == ']') return 0;
    if (c != ',') {
      --p->i;
      return jfail(p, "expected ',' or ']' in %s", what);
    }
  }
}

/* After a member: ',' (returns 1: another follows) or '}' (returns 0). */
static int jnext(sf_jp *p) {
  jws(p);
  if (p->i >= p->n) return jfail(p, "header ends inside an object");
  char c = p->s[p->i++];
  if (c == ',') return 1;
  if (c == '}') return 0;
  --p->i;
  char b[16];
  return jfail(p, "expected ',' or '}', found %s", show_char(c, b));
}

/* Does the object that just opened close at once? */
static int jempty_obj(sf_jp *p) {
  jws(p);
  if (p->i < p->n && p->s[p->i] == '}') {
    ++p->i;
    return 1;
  }
  return 0;
}

typedef struct {
  char *name;
  int dtype;
  int ndim;
  uint64_t shape[SF_ST_MAX_DIMS];
  uint64_t begin, end;
} sf_rtensor;

static int parse_tensor(sf_jp *p, sf_rtensor *t) {
  if (jexpect(p, '{', "an object for a tensor") != 0) return -1;
  int have_dtype = 0, have_shape = 0, have_offsets = 0;
  if (!jempty_obj(p))
    while (1) {
      char *field;
      if (jstring(p, &field, NULL) != 0) return -1;
      if (jexpect(p, ':', "':'") != 0) {
        free(field);
        return -1;
      }
      int rc = 0;
      if (strcmp(field, "dtype") == 0 && !have_dtype) {
        char *dt;
        have_dtype = 1;
        rc = jstring(p, &dt, NULL);
        if (rc == 0) {
          t->dtype = dtype_from_name(dt);
          if (t->dtype < 0) rc = jfail(p, "tensor '%s' has unknown dtype '%s'", t->name, dt);
          free(dt);
        }
      } else if (strcmp(field, "shape") == 0 && !have_shape) {
        char what[160];
        snprintf(what, sizeof what, "the shape of tensor '%.100s'", t->name);
        have_shape = 1;
        rc = juint_array(p, t->shape, SF_ST_MAX_DIMS, &t->ndim, what);
        for (int d = 0; rc == 0 && d < t->ndim; ++d)
          if (t->shape[d] > (uint64_t)INT64_MAX) rc = jfail(p, "tensor '%s' has a shape extent that is too large", t->name);
      } else if (strcmp(field, "data_offsets") == 0 && !have_offsets) {
        uint64_t o[2];
        int k;
        have_offsets = 1;
        char what[160];
        snprintf(what, sizeof what, "the data_offsets of tensor '%.100s'", t->name);
        rc = juint_array(p, o, 2, &k, what);
        if (rc == 0 && k != 2) rc = jfail(p, "tensor '%s': data_offsets needs 2 numbers, has %d", t->name, k);
        if (rc == 0) {
          t->begin = o[0];
          t->end = o[1];
        }
      } else if (!strcmp(field, "dtype") || !strcmp(field, "shape") || !strcmp(field, "data_offsets")) {
        rc = jfail(p, "tensor '%s' has '%s' twice", t->name, field);
      } else {
        rc = jfail(p, "tensor '%s' has unknown field '%s'", t->name, field);
      }
      free(field);
      if (rc != 0) return -1;
      int more = jnext(p);
      if (more < 0) return -1;
      if (!more) break;
    }
  if (!have_dtype) return jfail(p, "tensor '%s' has no dtype", t->name);
  if (!have_shape) return jfail(p, "tensor '%s' has no shape", t->name);
  if (!have_offsets) return jfail(p, "tensor '%s' has no data_offsets", t->name);
  return 0;
}

typedef struct {
  sf_rtensor *t;
  int n, cap;
  char **mkey, **mval;
  size_t *mraw; /* where each value starts in the header text */
  size_t *mrawend;
  int nm, capm;
  int have_meta;
} sf_header;

static void header_free(sf_header *h) {
  for (int i = 0; i < h->n; ++i) free(h->t[i].name);
  for (int i = 0; i < h->nm; ++i) {
    free(h->mkey[i]);
    free(h->mval[i]);
  }
  free(h->t);
  free(h->mkey);
  free(h->mval);
  free(h->mraw);
  free(h->mrawend);
}

static int parse_metadata(sf_jp *p, sf_header *h) {
  if (jexpect(p, '{', "an object for __metadata__") != 0) return -1;
  if (jempty_obj(p)) return 0;
  while (1) {
    if (h->nm == h->capm) {
      int cap = h->capm ? 2 * h->capm : 16;
      char **k = realloc(h->mkey, (size_t)cap * sizeof *k);
      if (k) h->mkey = k;
      char **v = realloc(h->mval, (size_t)cap * sizeof *v);
      if (v) h->mval = v;
      size_t *r = realloc(h->mraw, (size_t)cap * sizeof *r);
      if (r) h->mraw = r;
      size_t *re = realloc(h->mrawend, (size_t)cap * sizeof *re);
      if (re) h->mrawend = re;
      if (!k || !v || !r || !re) return jfail(p, "out of memory");
      h->capm = cap;
    }
    char *key, *val;
    if (jstring(p, &key, NULL) != 0) return -1;
    if (jexpect(p, ':', "':'") != 0) {
      free(key);
      return -1;
    }
    jws(p);
    if (p->i < p->n && p->s[p->i] != '"') {
      int rc = jfail(p, "metadata value of '%s' is not a string", key);
      free(key);
      return rc;
    }
    size_t raw;
    if (jstring(p, &val, &raw) != 0) {
      free(key);
      return -1;
    }
    h->mkey[h->nm] = key;
    h->mval[h->nm] = val;
    h->mraw[h->nm] = raw;
    h->mrawend[h->nm] = p->i - 1;
    h->nm++;
    int more = jnext(p);
    if (more < 0) return -1;
    if (!more) return 0;
  }
}

static int parse_header(sf_jp *p, sf_header *h) {
  if (jexpect(p, '{', "'{' at the start of the header") != 0) return -1;
  if (!jempty_obj(p))
    while (1) {
      char *name;
      if (jstring(p, &name, NULL) != 0) return -1;
      if (jexpect(p, ':', "':'") != 0) {
        free(name);
        return -1;
      }
      if (strcmp(name, "__metadata__") == 0) {
        free(name);
        if (h->have_meta) return jfail(p, "__metadata__ appears twice");
        h->have_meta = 1;
        if (parse_metadata(p, h) != 0) return -1;
      } else {
        if (h->n == h->cap) {
          int cap = h->cap ? 2 * h->cap : 16;
          sf_rtensor *t = realloc(h->t, (size_t)cap * sizeof *t);
          if (!t) {
            free(name);
            return jfail(p, "out of memory");
          }
          h->t = t;
          h->cap = cap;
        }
        sf_rtensor *t = &h->t[h->n++];
        memset(t, 0, sizeof *t);
        t->name = name;
        if (parse_tensor(p, t) != 0) return -1;
      }
      int more = jnext(p);
      if (more < 0) return -1;
      if (!more) break;
    }
  jws(p);
  char b[16];
  if (p->i != p->n) return jfail(p, "unexpected %s after the header object", show_char(p->s[p->i], b));
  return 0;
}

static int cmp_str_ptr(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sorts names[0..n) and returns a name that appears twice, or NULL. */
static const char *find_duplicate(const char **names, int n) {
  qsort(names, (size_t)n, sizeof *names, cmp_str_ptr);
  for (int i = 1; i < n; ++i)
    if (strcmp(names[i - 1], names[i]) == 0) return names[i];
  return NULL;
}

static int cmp_offsets(const void *a, const void *b) {
  const sf_rtensor *x = *(const sf_rtensor *const *)a, *y = *(const sf_rtensor *const *)b;
  if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
  if (x->end != y->end) return x->end < y->end ? -1 : 1;
  return 0;
}

/* Shapes and offsets against dtypes and the data section; the tensors in
 * data order into sorted[]. */
static int check_layout(const sf_header *h, uint64_t data_len, sf_rtensor **sorted, const char *label, char *err,
                        size_t errlen) {
  for (int i = 0; i < h->n; ++i) {
    const sf_rtensor *t = &h->t[i];
    int64_t shape[SF_ST_MAX_DIMS];
    for (int d = 0; d < t->ndim; ++d) shape[d] = (int64_t)t->shape[d];
    char s[200];
    shape_str(s, sizeof s, t->ndim, shape);
    uint64_t numel, nbytes;
    if (shape_size(t->ndim, shape, dtypes[t->dtype].size, &numel, &nbytes) != 0) {
      sf_set_err(err, errlen, "%s: tensor '%s' has shape %s, too large", label, t->name, s);
      return -1;
    }
    if (t->end < t->begin) {
      sf_set_err(err, errlen, "%s: tensor '%s' has data_offsets [%llu,%llu] that run backwards", label, t->name,
              (unsigned long long)t->begin, (unsigned long long)t->end);
      return -1;
    }
    if (t->end - t->begin != nbytes) {
      sf_set_err(err, errlen,
              "%s: tensor '%s' has dtype %s and shape %s (%llu bytes) but data_offsets [%llu,%llu] span %llu bytes",
              label, t->name, dtypes[t->dtype].name, s, (unsigned long long)nbytes, (unsigned long long)t->begin,
              (unsigned long long)t->end, (unsigned long long)(t->end - t->begin));
      return -1;
    }
    if (t->end > data_len) {
      sf_set_err(err, errlen, "%s: tensor '%s' has data_offsets [%llu,%llu] past the end of the %llu-byte data section",
              label, t->name, (unsigned long long)t->begin, (unsigned long long)t->end,
              (unsigned long long)data_len);
      return -1;
    }
    sorted[i] = (sf_rtensor *)t;
  }
  qsort(sorted, (size_t)h->n, sizeof *sorted, cmp_offsets);
  uint64_t at = 0;
  for (int i = 0; i < h->n; ++i) {
    if (sorted[i]->begin < at) {
      sf_set_err(err, errlen, "%s: tensors '%s' and '%s' overlap in the data section", label, sorted[i - 1]->name,
              sorted[i]->name);
      return -1;
    }
    if (sorted[i]->begin > at) {
      sf_set_err(err, errlen, "%s: %llu bytes of the data section before tensor '%s' belong to no tensor", label,
              (unsigned long long)(sorted[i]->begin - at), sorted[i]->name);
      return -1;
    }
    at = sorted[i]->end;
  }
  if (at != data_len) {
    sf_set_err(err, errlen, "%s: the data section has %llu bytes but the tensors cover %llu", label,
            (unsigned long long)data_len, (unsigned long long)at);
    return -1;
  }
  return 0;
}

/* Metadata entry `key`'s index, or -1. */
static int meta_index(const sf_header *h, const char *key) {
  for (int i = 0; i < h->nm; ++i)
    if (strcmp(h->mkey[i], key) == 0) return i;
  return -1;
}

/* The 8 lowercase hex digits of metadata entry m. 0, or -1 (message). */
static int crc_digits(const sf_header *h, int m, uint32_t *out, const char *label, char *err, size_t errlen) {
  const char *v = h->mval[m];
  int ok = strlen(v) == 8;
  uint32_t x = 0;
  for (int k = 0; ok && k < 8; ++k) {
    int d = hexval(v[k]);
    if (d < 0 || (v[k] >= 'A' && v[k] <= 'F')) ok = 0;
    x = x * 16 + (uint32_t)(d < 0 ? 0 : d);
  }
  if (!ok) {
    sf_set_err(err, errlen, "%s: checksum '%s' ('%s') is not 8 lowercase hex digits", label, v, h->mkey[m]);
    return -1;
  }
  *out = x;
  return 0;
}

/* The file checksum of buf[0..n): the digits of the checksum entries m and
 * mc (-1: absent) count as '0'. */
static uint32_t file_crc(const sf_header *h, int m, int mc, const unsigned char *buf, size_t n) {
  size_t at[2] = {m >= 0 ? 8 + h->mraw[m] : n, mc >= 0 ? 8 + h->mraw[mc] : n};
  if (at[1] < at[0]) {
    size_t t = at[0];
    at[0] = at[1];
    at[1] = t;
  }
  uint32_t crc = 0;
  size_t from = 0;
  for (int k = 0; k < 2 && at[k] < n; ++k) {
    crc = sf_crc32c(crc, buf + from, at[k] - from);
    crc = sf_crc32c(crc, "00000000", 8);
    from = at[k] + 8;
  }
  return sf_crc32c(crc, buf + from, n - from);
}

static uint32_t header_content_crc(const sf_header *h, const unsigned char *data, int *oom) {
  sf_citem *ci = calloc((size_t)(h->n + h->nm + 1), sizeof *ci);
  if (!ci) {
    *oom = 1;
    return 0;
  }
  for (int i = 0; i < h->nm; ++i) ci[i] = (sf_citem){.name = h->mkey[i], .value = h->mval[i]};
  for (int i = 0; i < h->n; ++i) {
    const sf_rtensor *t = &h->t[i];
    sf_citem *c = &ci[h->nm + i];
    *c = (sf_citem){.name = t->name, .dtype = dtypes[t->dtype].name, .ndim = t->ndim, .data = data + t->begin,
                    .nbytes = (size_t)(t->end - t->begin)};
    for (int d = 0; d < t->ndim; ++d) c->shape[d] = t->shape[d];
  }
  uint32_t crc = content_crc(ci, h->nm, ci + h->nm, h->n);
  free(ci);
  return crc;
}

/* The checksum digits of entry m, as they stand in the file (no escapes:
 * the file checksum counts them as '0' characters where they stand). */
static int stored_crc(const sf_header *h, int m, uint32_t *out, const char *label, char *err, size_t errlen) {
  if (crc_digits(h, m, out, label, err, errlen) != 0) return -1;
  if (h->mrawend[m] - h->mraw[m] != 8) {
    sf_set_err(err, errlen, "%s: checksum '%s' is not 8 lowercase hex digits", label, h->mval[m]);
    return -1;
  }
  return 0;
}

/* Verify the checksums (buf holds all n bytes, the data section from
 * data_start); *checked = 1 when they verified the file. The content
 * checksum, where present, must match. The file checksum must match too,
 * unless the content checksum matched: then the same tensors and metadata
 * were laid out anew by another writer. */
static int check_crc(const sf_header *h, const unsigned char *buf, size_t n, size_t data_start, unsigned flags,
                     const char *label, int *checked, char *err, size_t errlen) {
  int m = meta_index(h, SF_ST_CRC_KEY), mc = meta_index(h, SF_ST_CONTENT_CRC_KEY);
  *checked = 0;
  if (m < 0 && mc < 0) {
    if (flags & SF_ST_ALLOW_NO_CRC) return 0;
    sf_set_err(err, errlen, "%s: no checksum ('%s' metadata): the file was not written by spikefly or is damaged",
            label, SF_ST_CRC_KEY);
    return -1;
  }
  uint32_t stored, computed;
  if (mc >= 0) {
    int oom = 0;
    if (stored_crc(h, mc, &stored, label, err, errlen) != 0) return -1;
    computed = header_content_crc(h, buf + data_start, &oom);
    if (oom) {
      sf_set_err(err, errlen, "%s: out of memory", label);
      return -1;
    }
    if (computed != stored) {
      sf_set_err(err, errlen, "%s: content checksum mismatch (stored %08x, computed %08x): the file is corrupted",
              label, stored, computed);
      return -1;
    }
    *checked = 1;
  }
  if (m >= 0) {
    if (stored_crc(h, m, &stored, label, err, errlen) != 0) return -1;
    computed = file_crc(h, m, mc, buf, n);
    if (computed != stored && !*checked) {
      sf_set_err(err, errlen, "%s: checksum mismatch (stored %08x, computed %08x): the file is corrupted", label,
              stored, computed);
      return -1;
    }
    *checked = 1;
  }
  return 0;
}

/* Validate buf[0..n) (malloc'ed, taken over: freed on failure). */
static sf_st_file *parse_owned(unsigned char *buf, size_t n, const char *label, unsigned flags, char *err,
                               size_t errlen) {
  if (n < 8) {
    sf_set_err(err, errlen, "%s: %zu bytes, too short for a safetensors file (8-byte header length)", label, n);
    free(buf);
    return NULL;
  }
  uint64_t hlen = get_le64(buf);
  if (hlen > n - 8) {
    sf_set_err(err, errlen, "%s: header length %llu exceeds the file's %zu bytes after the length (truncated file?)",
            label, (unsigned long long)hlen, n - 8);
    free(buf);
    return NULL;
  }
  if (hlen > SF_ST_MAX_HEADER) {
    sf_set_err(err, errlen, "%s: header length %llu exceeds the limit of %llu", label, (unsigned long long)hlen,
            SF_ST_MAX_HEADER);
    free(buf);
    return NULL;
  }
  sf_header h = {0};
  sf_jp p = {(const char *)buf + 8, (size_t)hlen, 0, label, err, errlen, 0};
  sf_st_file *f = NULL;
  sf_rtensor **sorted = NULL;
  if (parse_header(&p, &h) != 0) goto fail;
  {
    const char **names = malloc((size_t)(h.n > h.nm ? h.n : h.nm) * sizeof *names + 1);
    if (!names) goto oom;
    for (int i = 0; i < h.n; ++i) names[i] = h.t[i].name;
    const char *dup = find_duplicate(names, h.n);
    if (dup) sf_set_err(err, errlen, "%s: tensor '%s' appears twice", label, dup);
    if (!dup) {
      for (int i = 0; i < h.nm; ++i) names[i] = h.mkey[i];
      dup = find_duplicate(names, h.nm);
      if (dup) sf_set_err(err, errlen, "%s: metadata key '%s' appears twice", label, dup);
    }
    free(names);
    if (dup) goto fail;
  }
  sorted = malloc((size_t)(h.n ? h.n : 1) * sizeof *sorted);
  if (!sorted) goto oom;
  size_t data_start = 8 + (size_t)hlen, data_len = n - data_start;
  if (check_layout(&h, data_len, sorted, label, err, errlen) != 0) goto fail;
  int checked;
  if (check_crc(&h, buf, n, data_start, flags, label, &checked, err, errlen) != 0) goto fail;

  f = calloc(1, sizeof *f);
  if (!f) goto oom;
  f->checksummed = checked;
  f->label = dup_str(label);
  f->t = calloc((size_t)(h.n ? h.n : 1), sizeof *f->t);
  if (!f->label || !f->t) goto oom;
  /* The header now lives in separate strings: where the data section is not
   * 16-byte aligned (a header length that is not 8 mod 16), move it to the
   * start of the malloc'ed buffer, so tensor data is aligned. */
  f->data = buf + data_start;
  if (data_start % 16) {
    memmove(buf, buf + data_start, data_len);
    f->data = buf;
  }
  f->buf = buf;
  buf = NULL;
  for (int i = 0; i < h.n; ++i) {
    sf_rtensor *r = sorted[i];
    sf_st_tensor *t = &f->t[i];
    t->name = r->name;
    r->name = NULL;
    t->dtype = (sf_st_dtype)r->dtype;
    t->ndim = r->ndim;
    for (int d = 0; d < r->ndim; ++d) t->shape[d] = (int64_t)r->shape[d];
    t->numel = 1;
    for (int d = 0; d < r->ndim; ++d) t->numel *= r->shape[d];
    t->nbytes = (size_t)(r->end - r->begin);
    t->data = f->data + r->begin;
  }
  f->n = h.n;
  h.n = 0;
  f->mkey = h.mkey;
  f->mval = h.mval;
  f->nm = h.nm;
  h.mkey = h.mval = NULL;
  h.nm = 0;
  header_free(&h);
  free(sorted);
  return f;

oom:
  sf_set_err(err, errlen, "%s: out of memory", label);
fail:
  header_free(&h);
  free(sorted);
  free(buf);
  sf_st_close(f);
  return NULL;
}

sf_st_file *sf_st_parse(const void *buf, size_t n, const char *label, unsigned flags, char *err, size_t errlen) {
  unsigned char *copy = malloc(n ? n : 1);
  if (!copy) {
    sf_set_err(err, errlen, "%s: out of memory for %zu bytes", label, n);
    return NULL;
  }
  if (n) memcpy(copy, buf, n);
  return parse_owned(copy, n, label, flags, err, errlen);
}

sf_st_file *sf_st_open(const char *path, unsigned flags, char *err, size_t errlen) {
  void *buf;
  size_t n;
  if (sf_read_file(path, &buf, &n, err, errlen) != 0) return NULL;
  return parse_owned(buf, n, path, flags, err, errlen);
}

int sf_st_count(const sf_st_file *f) { return f->n; }

const sf_st_tensor *sf_st_tensor_at(const sf_st_file *f, int i) {
  return i >= 0 && i < f->n ? &f->t[i] : NULL;
}

const sf_st_tensor *sf_st_find(const sf_st_file *f, const char *name) {
  for (int i = 0; i < f->n; ++i)
    if (strcmp(f->t[i].name, name) == 0) return &f->t[i];
  return NULL;
}

const sf_st_tensor *sf_st_get(const sf_st_file *f, const char *name, sf_st_dtype dt, int ndim,
                              const int64_t *shape, char *err, size_t errlen) {
  const sf_st_tensor *t = sf_st_find(f, name);
  if (!t) {
    sf_set_err(err, errlen, "%s: no tensor '%s'", f->label, name);
    return NULL;
  }
  if (t->dtype != dt) {
    const char *want = sf_st_dtype_name(dt);
    sf_set_err(err, errlen, "%s: tensor '%s' has dtype %s, expected %s", f->label, name, dtypes[t->dtype].name,
            want ? want : "?");
    return NULL;
  }
  int same = t->ndim == ndim;
  for (int d = 0; same && d < ndim; ++d) same = t->shape[d] == shape[d];
  if (!same) {
    char found[200], want[200];
    shape_str(found, sizeof found, t->ndim, t->shape);
    shape_str(want, sizeof want, ndim >= 0 && ndim <= SF_ST_MAX_DIMS ? ndim : 0, shape);
    sf_set_err(err, errlen, "%s: tensor '%s' has shape %s, expected %s", f->label, name, found, want);
    return NULL;
  }
  return t;
}

int sf_st_read(const sf_st_file *f, const char *name, sf_st_dtype dt, int ndim, const int64_t *shape, void *out,
               char *err, size_t errlen) {
  const sf_st_tensor *t = sf_st_get(f, name, dt, ndim, shape, err, errlen);
  if (!t) return -1;
  if (t->nbytes) memcpy(out, t->data, t->nbytes);
  return 0;
}

int sf_st_meta_count(const sf_st_file *f) { return f->nm; }

void sf_st_meta_at(const sf_st_file *f, int i, const char **key, const char **value) {
  *key = f->mkey[i];
  *value = f->mval[i];
}

const char *sf_st_meta(const sf_st_file *f, const char *key) {
  for (int i = 0; i < f->nm; ++i)
    if (strcmp(f->mkey[i], key) == 0) return f->mval[i];
  return NULL;
}

const char *sf_st_meta_require(const sf_st_file *f, const char *key, char *err, size_t errlen) {
  const char *v = sf_st_meta(f, key);
  if (!v) sf_set_err(err, errlen, "%s: no metadata '%s'", f->label, key);
  return v;
}
