#define _DEFAULT_SOURCE /* mkdtemp */
#include "export/sf_codegen.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include "embedded/sf_ctrl_f32.h"
#include "embedded/sf_ctrl_i8.h"

#ifndef SF_EMBEDDED_DIR
#define SF_EMBEDDED_DIR "embedded"
#endif

const char *sf_export_default_sources(void) { return SF_EMBEDDED_DIR; }

/* ---- running the module on the host ----------------------------------- */

static float *transpose(const float *w, int rows, int cols) {
  float *t = malloc(sizeof(float) * (size_t)rows * cols);
  if (!t) return NULL;
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) t[(size_t)c * rows + r] = w[(size_t)r * cols + c];
  return t;
}

/* -0 biases become +0: the module skips silent inputs, which must not leave
 * a sum at -0 where the dense formula would reach +0. */
static float *canonical_copy(const float *x, int n) {
  float *c = malloc(sizeof(float) * (size_t)n);
  if (!c) return NULL;
  for (int i = 0; i < n; ++i) c[i] = x[i] + 0.0f;
  return c;
}

static float *clamped_beta(const float *x, int n) {
  float *c = malloc(sizeof(float) * (size_t)n);
  if (!c) return NULL;
  for (int i = 0; i < n; ++i) c[i] = x[i] < 0.0f ? 0.0f : (x[i] > 1.0f ? 1.0f : x[i]);
  return c;
}

/* The float32 module's parameter arrays, as the generated header holds them. */
typedef struct {
  float *w2t, *w3t, *b1, *b2, *b3, *beta1, *beta2;
} f32_arrays;

static void f32_free(f32_arrays *a) {
  free(a->w2t);
  free(a->w3t);
  free(a->b1);
  free(a->b2);
  free(a->b3);
  free(a->beta1);
  free(a->beta2);
}

static int f32_make(const sf_snn_net *net, f32_arrays *a, sf_ctrl_f32_net *v) {
  a->w2t = transpose(net->w2, net->n_h2, net->n_h1);
  a->w3t = transpose(net->w3, net->n_out, net->n_h2);
  a->b1 = canonical_copy(net->b1, net->n_h1);
  a->b2 = canonical_copy(net->b2, net->n_h2);
  a->b3 = canonical_copy(net->b3, net->n_out);
  a->beta1 = clamped_beta(net->beta1, net->n_h1);
  a->beta2 = clamped_beta(net->beta2, net->n_h2);
  if (!a->w2t || !a->w3t || !a->b1 || !a->b2 || !a->b3 || !a->beta1 || !a->beta2) {
    f32_free(a);
    return -1;
  }
  sf_ctrl_f32_net n = {net->n_in, net->n_h1, net->n_h2, net->n_out, net->w1, a->b1, a->beta1, net->thr1,
                       a->w2t, a->b2, a->beta2, net->thr2, a->w3t, a->b3};
  *v = n;
  return 0;
}

static int count(const uint8_t *s, int n) {
  int k = 0;
  for (int i = 0; i < n; ++i) k += s[i];
  return k;
}

struct sf_module {
  sf_export_format fmt;
  int n1, n2, n;
  f32_arrays a;
  sf_ctrl_f32_net f32;
  sf_ctrl_i8_net i8;
  sf_ctrl_f32_state *fst;
  sf_ctrl_i8_state *ist;
  float *fbuf;
  uint32_t *ibuf;
  uint8_t *spk;
};

sf_module *sf_module_new(sf_export_format fmt, const sf_snn_net *net, const sf_quant_net *q, int n) {
  sf_module *m = calloc(1, sizeof *m);
  if (!m) return NULL;
  const size_t n1 = (size_t)net->n_h1, n2 = (size_t)net->n_h2;
  m->fmt = fmt;
  m->n1 = net->n_h1;
  m->n2 = net->n_h2;
  m->n = n;
  m->spk = calloc((n1 + n2) * n, 1);
  if (!m->spk) goto fail;
  if (fmt == SF_EXPORT_FLOAT32) {
    m->fst = calloc((size_t)n, sizeof *m->fst);
    m->fbuf = calloc((n1 + 2 * n2) * n, sizeof(float));
    if (!m->fst || !m->fbuf || f32_make(net, &m->a, &m->f32) != 0) goto fail;
    for (int k = 0; k < n; ++k) {
      float *b = m->fbuf + (n1 + 2 * n2) * k;
      uint8_t *s = m->spk + (n1 + n2) * k;
      sf_ctrl_f32_state st = {b, b + n1, s, s + n1, b + n1 + n2};
      m->fst[k] = st;
    }
  } else {
    sf_quant_view(q, &m->i8);
    m->ist = calloc((size_t)n, sizeof *m->ist);
    const size_t words = SF_CTRL_I8_STATE_WORDS(net->n_in, net->n_h1, net->n_h2);
    m->ibuf = calloc(words * n, sizeof(uint32_t));
    if (!m->ist || !m->ibuf) goto fail;
    for (int k = 0; k < n; ++k) sf_ctrl_i8_bind(&m->i8, &m->ist[k], m->ibuf + words * k);
  }
  return m;
fail:
  sf_module_free(m);
  return NULL;
}

void sf_module_free(sf_module *m) {
  if (!m) return;
  if (m->fst) f32_free(&m->a);
  free(m->fst);
  free(m->ist);
  free(m->fbuf);
  free(m->ibuf);
  free(m->spk);
  free(m);
}

void sf_module_reset(sf_module *m, int k) {
  if (m->fmt == SF_EXPORT_FLOAT32)
    sf_ctrl_f32_reset(&m->f32, &m->fst[k]);
  else
    sf_ctrl_i8_reset(&m->i8, &m->ist[k]);
}

void sf_module_step(sf_module *m, int k, const float *obs, float *act) {
  if (m->fmt == SF_EXPORT_FLOAT32)
    sf_ctrl_f32_step(&m->f32, &m->fst[k], obs, act);
  else
    sf_ctrl_i8_step(&m->i8, &m->ist[k], obs, act);
}

void sf_module_spikes(const sf_module *m, int k, int *spikes1, int *spikes2) {
  if (m->fmt == SF_EXPORT_FLOAT32) {
    const uint8_t *s = m->spk + (size_t)(m->n1 + m->n2) * k;
    *spikes1 = count(s, m->n1);
    *spikes2 = count(s + m->n1, m->n2);
  } else { /* the int8 state keeps each spike in the membrane word's lowest bit */
    *spikes1 = *spikes2 = 0;
    for (int i = 0; i < m->n1; ++i) *spikes1 += m->ist[k].u1[i] & 1;
    for (int i = 0; i < m->n2; ++i) *spikes2 += m->ist[k].u2[i] & 1;
  }
}

int sf_export_run_module(sf_export_format fmt, const sf_snn_net *net, const sf_quant_net *q,
                         const sf_obs_seq *seq, float *act, int *spikes1, int *spikes2) {
  sf_module *m = sf_module_new(fmt, net, q, 1);
  if (!m) return -1;
  for (int t = 0; t < seq->steps; ++t) {
    if (t == 0 || seq->reset[t]) sf_module_reset(m, 0);
    sf_module_step(m, 0, seq->obs + (size_t)t * net->n_in, act + (size_t)t * net->n_out);
    int a, b;
    sf_module_spikes(m, 0, &a, &b);
    if (spikes1) spikes1[t] = a;
    if (spikes2) spikes2[t] = b;
  }
  sf_module_free(m);
  return 0;
}

/* ---- sizes ------------------------------------------------------------ */

size_t sf_export_flash_bytes(sf_export_format fmt, const sf_snn_net *net) {
  size_t n_in = (size_t)net->n_in, n1 = (size_t)net->n_h1, n2 = (size_t)net->n_h2, n3 = (size_t)net->n_out;
  if (fmt == SF_EXPORT_FLOAT32) return 4 * sf_snn_net_params(net);
  size_t w2 = 4 * n1 * SF_CTRL_I8_WORDS(n2), w3 = 4 * n2 * SF_CTRL_I8_WORDS(n3);
  return 4 * n_in + 4 * (size_t)SF_CTRL_I8_W1_LEN(n_in, n1) + 12 * n1 + w2 + 12 * n2 + w3 + 8 * n3 + 2 * (SF_CTRL_I8_TANH_N + 1);
}

size_t sf_export_state_bytes(sf_export_format fmt, const sf_snn_net *net) {
  size_t n_in = (size_t)net->n_in, n1 = (size_t)net->n_h1, n2 = (size_t)net->n_h2;
  if (fmt == SF_EXPORT_FLOAT32) return 4 * n1 + 8 * n2 + n1 + n2;
  return 4 * (size_t)SF_CTRL_I8_STATE_WORDS(n_in, n1, n2);
}

/* ---- writing ---------------------------------------------------------- */

typedef struct {
  FILE *f;
  int col;
} emitter;

static void item(emitter *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void item(emitter *e, const char *fmt, ...) {
  char buf[64];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  size_t len = strlen(buf);
  if (e->col + (int)len + 2 > 100) {
    fputs("\n ", e->f);
    e->col = 1;
  }
  fprintf(e->f, " %s,", buf);
  e->col += (int)len + 2;
}

static void begin(emitter *e, FILE *f, const char *decl) {
  e->f = f;
  fprintf(f, "%s = {\n ", decl);
  e->col = 1;
}

static void end(emitter *e) { fputs("\n};\n\n", e->f); }

/* Floats as 9 significant digits: read back as float, the same bits.
 * row > 0 writes a two-dimensional array's rows in their own braces. */
static void float_array(FILE *f, const char *name, const float *x, size_t n, const char *dims, size_t row) {
  char decl[160];
  snprintf(decl, sizeof decl, "static const float %s%s", name, dims);
  emitter e;
  begin(&e, f, decl);
  for (size_t i = 0; i < n; ++i) {
    if (row && i % row == 0) {
      fputs(i ? "\n  {" : " {", f);
      e.col = 3;
    }
    item(&e, "%.8ef", (double)x[i]);
    if (row && i % row == row - 1) fputs(" },", f);
  }
  end(&e);
}

static void i32_array(FILE *f, const char *type, const char *name, const int32_t *x, size_t n) {
  char decl[160];
  snprintf(decl, sizeof decl, "static const %s %s[%zu]", type, name, n);
  emitter e;
  begin(&e, f, decl);
  for (size_t i = 0; i < n; ++i) {
    if (x[i] == INT32_MIN)
      item(&e, "INT32_MIN");
    else
      item(&e, "%ld", (long)x[i]);
  }
  end(&e);
}

static void u32_array(FILE *f, const char *name, const uint32_t *x, size_t n) {
  char decl[160];
  snprintf(decl, sizeof decl, "static const uint32_t %s[%zu]", name, n);
  emitter e;
  begin(&e, f, decl);
  for (size_t i = 0; i < n; ++i) item(&e, "0x%08lxu", (unsigned long)x[i]);
  end(&e);
}

static void i16_array(FILE *f, const char *name, const int16_t *x, size_t n) {
  char decl[160];
  snprintf(decl, sizeof decl, "static const int16_t %s[%zu]", name, n);
  emitter e;
  begin(&e, f, decl);
  for (size_t i = 0; i < n; ++i) item(&e, "%d", x[i]);
  end(&e);
}

static int write_header(const sf_export_spec *sp, const char *path, char *err, size_t errlen) {
  const sf_snn_net *net = sp->net;
  const int n_in = net->n_in, n1 = net->n_h1, n2 = net->n_h2, n3 = net->n_out;
  float *act = malloc(sizeof(float) * (size_t)sp->test.steps * n3);
  if (!act || sf_export_run_module(sp->format, net, sp->q, &sp->test, act, NULL, NULL) != 0) {
    free(act);
    snprintf(err, errlen, "out of memory running the module for the test vector");
    return -1;
  }
  FILE *f = fopen(path, "w");
  if (!f) {
    snprintf(err, errlen, "%s: cannot write: %s", path, strerror(errno));
    free(act);
    return -1;
  }
  const int i8 = sp->format == SF_EXPORT_INT8;
  fprintf(f,
          "/* Generated by `spikefly export` -- do not edit.\n * Network: %s\n"
          " * Format: %s; shape %d -> LIF(%d) -> LIF(%d) -> %d (tanh).\n"
          " * %s\n"
          " * Inputs: obs[0..2] position error p - p* (m, world frame, z up), obs[3..11]\n"
          " * the rotation matrix body -> world (row-major), obs[12..14] velocity error\n"
          " * (m/s, world), obs[15..17] angular velocity (rad/s, body). Outputs: motor\n"
          " * commands in [-1, 1], (m + 1) / 2 the normalised motor command of rotors\n"
          " * M1..M4 (see sf_ctrl.h, in this directory). */\n"
          "#ifndef SF_CTRL_WEIGHTS_H\n#define SF_CTRL_WEIGHTS_H\n\n#include <stdint.h>\n\n",
          sp->origin ? sp->origin : "(unnamed)", i8 ? "int8" : "float32", n_in, n1, n2, n3,
          i8 ? "Number formats: see sf_ctrl_i8.h (in this directory)."
             : "Weights of fc2 and fc3 are stored transposed ([in][out]).");
  fprintf(f, "#define %s 1\n#define SF_CTRL_N_IN %d\n#define SF_CTRL_N_H1 %d\n#define SF_CTRL_N_H2 %d\n"
             "#define SF_CTRL_N_OUT %d\n\n",
          i8 ? "SF_CTRL_FORMAT_INT8" : "SF_CTRL_FORMAT_FLOAT32", n_in, n1, n2, n3);
  if (!i8) {
    f32_arrays a;
    sf_ctrl_f32_net v;
    if (f32_make(net, &a, &v) != 0) {
      fclose(f);
      free(act);
      snprintf(err, errlen, "out of memory");
      return -1;
    }
    char d[64];
    snprintf(d, sizeof d, "[%d]", n1 * n_in);
    float_array(f, "sf_ctrl_w1", net->w1, (size_t)n1 * n_in, d, 0);
    snprintf(d, sizeof d, "[%d]", n1);
    float_array(f, "sf_ctrl_b1", a.b1, (size_t)n1, d, 0);
    float_array(f, "sf_ctrl_beta1", a.beta1, (size_t)n1, d, 0);
    float_array(f, "sf_ctrl_thr1", net->thr1, (size_t)n1, d, 0);
    snprintf(d, sizeof d, "[%d]", n1 * n2);
    float_array(f, "sf_ctrl_w2t", a.w2t, (size_t)n1 * n2, d, 0);
    snprintf(d, sizeof d, "[%d]", n2);
    float_array(f, "sf_ctrl_b2", a.b2, (size_t)n2, d, 0);
    float_array(f, "sf_ctrl_beta2", a.beta2, (size_t)n2, d, 0);
    float_array(f, "sf_ctrl_thr2", net->thr2, (size_t)n2, d, 0);
    snprintf(d, sizeof d, "[%d]", n2 * n3);
    float_array(f, "sf_ctrl_w3t", a.w3t, (size_t)n2 * n3, d, 0);
    snprintf(d, sizeof d, "[%d]", n3);
    float_array(f, "sf_ctrl_b3", a.b3, (size_t)n3, d, 0);
    f32_free(&a);
  } else {
    const sf_quant_net *q = sp->q;
    char d[64];
    snprintf(d, sizeof d, "[%d]", n_in);
    fprintf(f, "/* quantised observations lie in [-SF_CTRL_IN_MAX, SF_CTRL_IN_MAX] */\n#define SF_CTRL_IN_MAX %ld\n",
            (long)q->in_max);
    fputs("/* 1 / input scale: observation units -> integer steps */\n", f);
    float_array(f, "sf_ctrl_in_mul", q->in_mul, (size_t)n_in, d, 0);
    fputs("/* fc1 (input scales folded in): int8, word (g W + c) 4 + b holds neuron 4g + b's weights of input\n"
          " * slots 4c .. 4c + 3 (W words per row; see sf_ctrl_i8.h for the slots) */\n",
          f);
    u32_array(f, "sf_ctrl_w1", q->w1p, (size_t)SF_CTRL_I8_W1_LEN(n_in, n1));
    fputs("/* lif1: bias, threshold, beta (Q31) of each neuron */\n", f);
    i32_array(f, "int32_t", "sf_ctrl_lif1", q->lif1p, (size_t)3 * n1);
    fputs("/* fc2, packed rows: row j holds column j, bytes w + 128, output 4c + b in byte b of word c */\n", f);
    u32_array(f, "sf_ctrl_w2", q->w2p, (size_t)n1 * q->words2);
    i32_array(f, "int32_t", "sf_ctrl_lif2", q->lif2p, (size_t)3 * n2);
    u32_array(f, "sf_ctrl_w3", q->w3p, (size_t)n2 * q->words3);
    i32_array(f, "int32_t", "sf_ctrl_out_mul", q->out_mul, (size_t)n3);
    i32_array(f, "int32_t", "sf_ctrl_out_bias", q->out_bias, (size_t)n3);
    i16_array(f, "sf_ctrl_tanh_q15", q->tanh_q15, SF_CTRL_I8_TANH_N + 1);
    fputs("/* Scales (float, for reference; the code uses the integers above):\n", f);
    fputs(" * input scales sx:", f);
    for (int i = 0; i < n_in; ++i) fprintf(f, " %.6g", (double)q->in_scale[i]);
    fputs("\n * fc3 row scales sw3:", f);
    for (int o = 0; o < n3; ++o) fprintf(f, " %.6g", (double)q->sw3[o]);
    fputs("\n * fc1, fc2 row scales: sw[o] = fixed-point unit * 2^8 of each neuron (see sf_ctrl_i8.h) */\n\n",
          f);
  }
  const int T = sp->test.steps;
  fprintf(f,
          "#ifdef SF_CTRL_TEST_VECTOR\n/* A recorded observation sequence and the actions this controller\n"
          " * computes for it (reset before every step flagged in sf_ctrl_test_reset). */\n"
          "#define SF_CTRL_TEST_STEPS %d\n",
          T);
  {
    emitter e;
    char decl[96];
    snprintf(decl, sizeof decl, "static const uint8_t sf_ctrl_test_reset[%d]", T);
    begin(&e, f, decl);
    for (int t = 0; t < T; ++t) item(&e, "%d", t == 0 || sp->test.reset[t] ? 1 : 0);
    end(&e);
  }
  char d[64];
  snprintf(d, sizeof d, "[%d][%d]", T, n_in);
  float_array(f, "sf_ctrl_test_obs", sp->test.obs, (size_t)T * n_in, d, (size_t)n_in);
  snprintf(d, sizeof d, "[%d][%d]", T, n3);
  float_array(f, "sf_ctrl_test_act", act, (size_t)T * n3, d, (size_t)n3);
  fputs("#endif\n\n#endif\n", f);
  free(act);
  if (fclose(f) != 0) {
    snprintf(err, errlen, "%s: write failed: %s", path, strerror(errno));
    return -1;
  }
  return 0;
}

static int copy_file(const char *src, const char *dst, char *err, size_t errlen) {
  FILE *in = fopen(src, "rb");
  if (!in) {
    snprintf(err, errlen, "%s: cannot read the embedded module's source: %s", src, strerror(errno));
    return -1;
  }
  FILE *out = fopen(dst, "wb");
  if (!out) {
    fclose(in);
    snprintf(err, errlen, "%s: cannot write: %s", dst, strerror(errno));
    return -1;
  }
  char buf[8192];
  size_t n;
  int bad = 0;
  while (!bad && (n = fread(buf, 1, sizeof buf, in)) > 0) bad = fwrite(buf, 1, n, out) != n;
  bad |= ferror(in) || ferror(out);
  fclose(in);
  if (fclose(out) != 0 || bad) {
    snprintf(err, errlen, "%s: copy failed: %s", dst, strerror(errno));
    return -1;
  }
  return 0;
}

static int write_text(const char *path, const char *text, char *err, size_t errlen) {
  FILE *f = fopen(path, "w");
  if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
    snprintf(err, errlen, "%s: cannot write: %s", path, strerror(errno));
    return -1;
  }
  return 0;
}

/* mkdir -p */
static int make_dirs(const char *dir) {
  char path[4096];
  snprintf(path, sizeof path, "%s", dir);
  for (char *p = path + 1; *p; ++p)
    if (*p == '/') {
      *p = 0;
      if (mkdir(path, 0777) != 0 && errno != EEXIST) return -1;
      *p = '/';
    }
  return mkdir(path, 0777) != 0 && errno != EEXIST ? -1 : 0;
}

/* ---- the directory, swapped in when complete ------------------------------ */

/* The files of an export: the generated header last, so that an install cut
 * short by a crash leaves the previous network's header with its sources. */
enum { SF_EXPORT_NFILES = 8 };
static void export_files(sf_export_format fmt, const char *names[SF_EXPORT_NFILES],
                         const char *stale[SF_EXPORT_NFILES]) {
  const int i8 = fmt == SF_EXPORT_INT8;
  static const char *const common[] = {"sf_ctrl.h", "sf_ctrl.c", "sf_ctrl_selftest.c", "Makefile", "README.md"};
  for (int i = 0; i < 5; ++i) names[i] = common[i];
  names[5] = i8 ? "sf_ctrl_i8.h" : "sf_ctrl_f32.h";
  names[6] = i8 ? "sf_ctrl_i8.c" : "sf_ctrl_f32.c";
  names[7] = "sf_ctrl_weights.h";
  /* The other format's kernel and the previous network's build products. */
  stale[0] = i8 ? "sf_ctrl_f32.h" : "sf_ctrl_i8.h";
  stale[1] = i8 ? "sf_ctrl_f32.c" : "sf_ctrl_i8.c";
  stale[2] = "sf_ctrl.o";
  stale[3] = "libsf_ctrl.a";
  stale[4] = "sf_ctrl_selftest";
  stale[5] = stale[6] = stale[7] = NULL;
}

/* `dir` without trailing slashes, and its parent directory. */
static int split_dir(const char *dir, char *path, size_t n, char *parent, size_t np) {
  if (!dir[0] || snprintf(path, n, "%s", dir) >= (int)n) return -1;
  size_t l = strlen(path);
  while (l > 1 && path[l - 1] == '/') path[--l] = 0;
  const char *slash = strrchr(path, '/');
  if (!slash)
    snprintf(parent, np, ".");
  else if (slash == path)
    snprintf(parent, np, "/");
  else
    snprintf(parent, np, "%.*s", (int)(slash - path), path);
  return 0;
}

int sf_export_check_dir(const char *dir, char *err, size_t errlen) {
  char path[4096], parent[4096];
  struct stat st;
  if (split_dir(dir, path, sizeof path, parent, sizeof parent) != 0) {
    snprintf(err, errlen, "'%s': not a usable directory name", dir);
    return -1;
  }
  if (stat(path, &st) == 0 && !S_ISDIR(st.st_mode)) {
    snprintf(err, errlen, "'%s' exists and is not a directory", dir);
    return -1;
  }
  /* The nearest existing ancestor must be a directory that takes new
   * entries (the staging directory is created beside the target). */
  while (stat(parent, &st) != 0) {
    char up[4096], p2[4096];
    if (split_dir(parent, up, sizeof up, p2, sizeof p2) != 0 || !strcmp(p2, parent)) break;
    snprintf(parent, sizeof parent, "%s", p2);
  }
  if (stat(parent, &st) != 0 || !S_ISDIR(st.st_mode) || access(parent, W_OK | X_OK) != 0) {
    snprintf(err, errlen, "cannot create '%s': '%s' is not a writable directory", dir, parent);
    return -1;
  }
  return 0;
}

/* Remove a staging directory and the files in it (all written by us). */
static void remove_stage(const char *stage) {
  DIR *d = opendir(stage);
  if (d) {
    struct dirent *e;
    char p[4600];
    while ((e = readdir(d))) {
      if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
      snprintf(p, sizeof p, "%s/%s", stage, e->d_name);
      unlink(p);
    }
    closedir(d);
  }
  rmdir(stage);
}

/* Durable before it is renamed into place. */
static int sync_file(const char *path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  int rc = fsync(fd);
  close(fd);
  return rc;
}

static void sync_dir(const char *dir) {
  int fd = open(dir, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  fsync(fd);
  close(fd);
}

/* Move the complete staged export into place. A new directory is one rename.
 * An existing one may hold the user's own files (an app's sources beside the
 * controller): ours are renamed over the old ones one by one, each rename
 * atomic, then the other format's kernel and the old build products go. */
static int install(const char *stage, const char *path, const char *parent, sf_export_format fmt, char *err,
                   size_t errlen) {
  const char *names[SF_EXPORT_NFILES], *stale[SF_EXPORT_NFILES];
  export_files(fmt, names, stale);
  char src[4600], dst[4600];
  for (int i = 0; i < SF_EXPORT_NFILES; ++i) {
    snprintf(src, sizeof src, "%s/%s", stage, names[i]);
    if (sync_file(src) != 0) {
      snprintf(err, errlen, "%s: cannot sync: %s", src, strerror(errno));
      return -1;
    }
  }
  struct stat st;
  if (stat(path, &st) != 0) {
    if (rename(stage, path) != 0) {
      snprintf(err, errlen, "cannot rename '%s' to '%s': %s", stage, path, strerror(errno));
      return -1;
    }
    sync_dir(parent);
    return 0;
  }
  for (int i = 0; i < SF_EXPORT_NFILES; ++i) {
    snprintf(src, sizeof src, "%s/%s", stage, names[i]);
    snprintf(dst, sizeof dst, "%s/%s", path, names[i]);
    if (rename(src, dst) != 0) {
      snprintf(err, errlen, "cannot rename '%s' to '%s': %s", src, dst, strerror(errno));
      return -1;
    }
  }
  for (int i = 0; stale[i]; ++i) {
    snprintf(dst, sizeof dst, "%s/%s", path, stale[i]);
    unlink(dst);
  }
  sync_dir(path);
  rmdir(stage);
  return 0;
}

/* Write every file of the export into `dir` (an empty directory). */
static int write_files(const sf_export_spec *sp, const char *dir, char *err, size_t errlen) {
  const int i8 = sp->format == SF_EXPORT_INT8;
  const char *kern = i8 ? "sf_ctrl_i8" : "sf_ctrl_f32";
  const char *names[SF_EXPORT_NFILES], *stale[SF_EXPORT_NFILES];
  export_files(sp->format, names, stale);
  char src[4400], dst[4400];
  /* The module's sources: every name but the generated ones. */
  for (int i = 0; i < SF_EXPORT_NFILES; ++i) {
    if (!strcmp(names[i], "Makefile") || !strcmp(names[i], "README.md") || !strcmp(names[i], "sf_ctrl_weights.h"))
      continue;
    snprintf(src, sizeof src, "%s/%s", sp->source_dir, names[i]);
    snprintf(dst, sizeof dst, "%s/%s", dir, names[i]);
    if (copy_file(src, dst, err, errlen) != 0) return -1;
  }
  snprintf(dst, sizeof dst, "%s/sf_ctrl_weights.h", dir);
  if (write_header(sp, dst, err, errlen) != 0) return -1;

  char text[4096];
  snprintf(text, sizeof text,
           "# Exported spikefly controller (%s). Builds with any C99 compiler.\n"
           "CC ?= cc\nCFLAGS ?= -O2\n"
           "# No fused multiply-add: the float arithmetic stays in source order.\n"
           "override CFLAGS += -std=c99 -Wall -Wextra -pedantic -ffp-contract=off\n"
           "# sf_ctrl.c includes %s.c: one translation unit, specialised for this network.\n"
           "SRCS = sf_ctrl.c\n\n"
           "all: libsf_ctrl.a sf_ctrl_selftest\n\n"
           "libsf_ctrl.a: $(SRCS:.c=.o)\n\t$(AR) rcs $@ $^\n\n"
           "%%.o: %%.c sf_ctrl_weights.h sf_ctrl.h %s.h %s.c\n\t$(CC) $(CFLAGS) -c -o $@ $<\n\n"
           "sf_ctrl_selftest: sf_ctrl_selftest.c $(SRCS) sf_ctrl_weights.h\n"
           "\t$(CC) $(CFLAGS) -DSF_CTRL_TEST_VECTOR -o $@ sf_ctrl_selftest.c $(SRCS)%s\n\n"
           "check: sf_ctrl_selftest\n\t./sf_ctrl_selftest\n\n"
           "clean:\n\trm -f *.o libsf_ctrl.a sf_ctrl_selftest\n\n.PHONY: all check clean\n",
           i8 ? "int8" : "float32", kern, kern, kern, i8 ? "" : " -lm");
  snprintf(dst, sizeof dst, "%s/Makefile", dir);
  if (write_text(dst, text, err, errlen) != 0) return -1;

  snprintf(text, sizeof text,
           "# spikefly controller (%s)\n\n"
           "Network: %s\n\n"
           "Generated by `spikefly export`. The directory builds on its own:\n\n"
           "    make            # libsf_ctrl.a and the self-test\n"
           "    make check      # replays the recorded observations, compares every action bit for bit\n\n"
           "or with one compiler line:\n\n"
           "    cc -O2 -std=c99 -ffp-contract=off -DSF_CTRL_TEST_VECTOR -o sf_ctrl_selftest \\\n"
           "       sf_ctrl_selftest.c sf_ctrl.c%s\n\n"
           "In a firmware, compile `sf_ctrl.c` (it includes `%s.c`, so the compiler\n"
           "specialises the network's loops for its sizes) and call\n\n"
           "    #include \"sf_ctrl.h\"\n"
           "    sf_ctrl_reset();                 /* at the start of every flight */\n"
           "    sf_ctrl_step(obs, motor);        /* at 100 Hz: 18 observations in, 4 motor commands out */\n\n"
           "The observation (axes, units) and the motor commands (what the normalised\n"
           "command means) are described in `sf_ctrl.h`%s. Keep `-ffp-contract=off` (no fused\n"
           "multiply-add) where the float results must match the host bit for bit. The test\n"
           "vector in `sf_ctrl_weights.h` is compiled only with `-DSF_CTRL_TEST_VECTOR`.\n",
           i8 ? "int8" : "float32", sp->origin ? sp->origin : "(unnamed)", i8 ? "" : " -lm", kern,
           i8 ? "; the int8 number formats in `sf_ctrl_i8.h`" : "");
  snprintf(dst, sizeof dst, "%s/README.md", dir);
  return write_text(dst, text, err, errlen);
}

int sf_export_write(const sf_export_spec *sp, const char *dir, char *err, size_t errlen) {
  char path[4096], parent[4096], stage[4200];
  if (sf_export_check_dir(dir, err, errlen) != 0) return -1;
  split_dir(dir, path, sizeof path, parent, sizeof parent);
  if (make_dirs(parent) != 0) {
    snprintf(err, errlen, "%s: cannot create the directory: %s", parent, strerror(errno));
    return -1;
  }
  /* Beside the target, on the same filesystem: the install is renames. */
  snprintf(stage, sizeof stage, "%s.partial-XXXXXX", path);
  if (!mkdtemp(stage)) {
    snprintf(err, errlen, "cannot create a staging directory beside '%s': %s", path, strerror(errno));
    return -1;
  }
  if (write_files(sp, stage, err, errlen) != 0 || install(stage, path, parent, sp->format, err, errlen) != 0) {
    remove_stage(stage);
    return -1;
  }
  return 0;
}
