/* The C simulator's side of the Python package's environment tests: the
 * trainer's loop (step, observe, reset the finished envs, observe) over
 * actions read from a file, everything written out as raw little-endian
 * arrays for tests/python_pkg/test_env.py to compare bit for bit.
 *
 *   sf_env_ref N SEED STEPS PROGRESS ACTIONS OUT [section.key=value...]
 *
 * ACTIONS: float32 [STEPS][N][4]. OUT: obs [N][18], priv [N][146], then per
 * step: reward f32 [N], terminated u8 [N], truncated u8 [N], the post-step
 * observation f32 [N][18], then after the resets obs [N][18], priv [N][146]. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/sf_config.h"
#include "sim/sf_env.h"

static int put(FILE *f, const void *p, size_t size, size_t n) { return fwrite(p, size, n, f) == n ? 0 : -1; }

int main(int argc, char **argv) {
  if (argc < 7) {
    fprintf(stderr, "usage: sf_env_ref N SEED STEPS PROGRESS ACTIONS OUT [section.key=value...]\n");
    return 2;
  }
  const int N = atoi(argv[1]), steps = atoi(argv[3]);
  uint64_t seed = strtoull(argv[2], NULL, 10);
  sf_config *cfg = sf_cfg_new();
  sf_env_model model;
  for (int i = 7; i < argc; ++i) sf_cfg_set_override(cfg, argv[i]);
  if (sf_env_model_from_config(cfg, &model) != 0 || sf_cfg_check_unused(cfg) != 0) {
    fprintf(stderr, "sf_env_ref: %s\n", sf_cfg_error(cfg));
    return 2;
  }
  sf_env_data *d = sf_env_data_new(1, N, &seed);
  FILE *in = fopen(argv[5], "rb"), *out = fopen(argv[6], "wb");
  float *act = malloc(sizeof(float) * N * 4), *obs = malloc(sizeof(float) * N * 18);
  float *priv = malloc(sizeof(float) * N * 146), *rew = malloc(sizeof(float) * N);
  uint8_t *term = malloc(N), *trunc = malloc(N), *done = malloc(N);
  if (!d || !in || !out || !act || !obs || !priv || !rew || !term || !trunc || !done) {
    fprintf(stderr, "sf_env_ref: cannot open %s or %s, or out of memory\n", argv[5], argv[6]);
    return 1;
  }
  d->progress[0] = (float)atof(argv[4]);
  sf_env_reset_all(&model, d);
  sf_env_observe(&model, d, obs);
  sf_env_observe_privileged(&model, d, priv);
  int rc = put(out, obs, sizeof(float), (size_t)N * 18) | put(out, priv, sizeof(float), (size_t)N * 146);
  for (int k = 0; k < steps && !rc; ++k) {
    if (fread(act, sizeof(float), (size_t)N * 4, in) != (size_t)N * 4) {
      fprintf(stderr, "sf_env_ref: %s holds fewer than %d steps\n", argv[5], steps);
      return 2;
    }
    sf_env_step(&model, d, act, rew, term, trunc);
    sf_env_observe(&model, d, obs);
    rc |= put(out, rew, sizeof(float), N) | put(out, term, 1, N) | put(out, trunc, 1, N) |
          put(out, obs, sizeof(float), (size_t)N * 18);
    for (int i = 0; i < N; ++i) done[i] = term[i] | trunc[i];
    sf_env_reset_masked(&model, d, done);
    sf_env_observe(&model, d, obs);
    sf_env_observe_privileged(&model, d, priv);
    rc |= put(out, obs, sizeof(float), (size_t)N * 18) | put(out, priv, sizeof(float), (size_t)N * 146);
  }
  if (fclose(out) != 0) rc = -1;
  fclose(in);
  sf_env_data_free(d);
  sf_cfg_free(cfg);
  free(act), free(obs), free(priv), free(rew), free(term), free(trunc), free(done);
  return rc ? 1 : 0;
}
