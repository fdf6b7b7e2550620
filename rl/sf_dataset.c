#include "rl/sf_dataset.h"

#include <stdlib.h>
#include <string.h>

#include "core/sf_safetensors.h"
#include "sim/sf_env_math.h"

void sf_dataset_init(sf_dataset *ds) { memset(ds, 0, sizeof *ds); }

void sf_dataset_free(sf_dataset *ds) {
  free(ds->len), free(ds->obs), free(ds->priv), free(ds->act), free(ds->rew), free(ds->flags);
  memset(ds, 0, sizeof *ds);
}

static int grow(void **p, size_t elem, long cap) {
  void *q = realloc(*p, elem * (size_t)cap);
  if (!q) return -1;
  *p = q;
  return 0;
}

int sf_dataset_add(sf_dataset *ds, int len, const float *obs, const float *priv, const float *act, const float *rew,
                   const uint8_t *flags) {
  long need = ds->rows + len + 1;
  if (need > ds->cap_rows) {
    long cap = ds->cap_rows ? ds->cap_rows : 1024;
    while (cap < need) cap *= 2;
    if (grow((void **)&ds->obs, sizeof(float) * SF_OBS_DIM, cap) || grow((void **)&ds->priv, sizeof(float) * SF_PRIV_DIM, cap) ||
        grow((void **)&ds->act, sizeof(float) * SF_ACT_DIM, cap) || grow((void **)&ds->rew, sizeof(float), cap) ||
        grow((void **)&ds->flags, 1, cap))
      return -1;
    ds->cap_rows = cap;
  }
  if (ds->n_eps == ds->cap_eps) {
    int cap = ds->cap_eps ? 2 * ds->cap_eps : 64;
    if (grow((void **)&ds->len, sizeof(int32_t), cap)) return -1;
    ds->cap_eps = cap;
  }
  long r = ds->rows;
  memcpy(ds->obs + r * SF_OBS_DIM, obs, sizeof(float) * SF_OBS_DIM * (len + 1));
  memcpy(ds->priv + r * SF_PRIV_DIM, priv, sizeof(float) * SF_PRIV_DIM * (len + 1));
  memcpy(ds->act + r * SF_ACT_DIM, act, sizeof(float) * SF_ACT_DIM * len);
  memset(ds->act + (r + len) * SF_ACT_DIM, 0, sizeof(float) * SF_ACT_DIM);
  memcpy(ds->rew + r, rew, sizeof(float) * len);
  ds->rew[r + len] = 0.0f;
  memcpy(ds->flags + r, flags, len);
  ds->flags[r + len] = 0;
  ds->len[ds->n_eps++] = len;
  ds->rows += len + 1;
  return 0;
}

int sf_dataset_write(const sf_dataset *ds, const char *path, const char *const *meta, char *err, size_t errlen) {
  sf_st_writer *w = sf_st_writer_new();
  int64_t e[1] = {ds->n_eps}, r1[1] = {ds->rows}, ro[2] = {ds->rows, SF_OBS_DIM}, rp[2] = {ds->rows, SF_PRIV_DIM},
          ra[2] = {ds->rows, SF_ACT_DIM};
  sf_st_add(w, "episode_len", SF_ST_I32, 1, e, ds->len);
  sf_st_add(w, "obs", SF_ST_F32, 2, ro, ds->obs);
  sf_st_add(w, "priv", SF_ST_F32, 2, rp, ds->priv);
  sf_st_add(w, "act", SF_ST_F32, 2, ra, ds->act);
  sf_st_add(w, "rew", SF_ST_F32, 1, r1, ds->rew);
  sf_st_add(w, "flags", SF_ST_U8, 1, r1, ds->flags);
  sf_st_set_meta(w, "spikefly.kind", "dataset");
  for (int i = 0; meta && meta[i] && meta[i + 1]; i += 2) sf_st_set_meta(w, meta[i], meta[i + 1]);
  int rc = sf_st_write(w, path, err, errlen);
  sf_st_writer_free(w);
  return rc;
}
