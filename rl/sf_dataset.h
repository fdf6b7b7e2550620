/* Offline datasets (written by `spikefly collect`, read by the bc and td3bc
 * trainers): whole episodes in one safetensors file. Tensors:
 *   episode_len I32 [E]; obs F32 [R][18]; priv F32 [R][146]; act F32 [R][4];
 *   rew F32 [R]; flags U8 [R] (sf_replay.h's SF_ROW_*),
 * with R = sum (len + 1): each episode holds len + 1 rows, the last one its
 * final observations (action, reward and flags zero there). */
#ifndef SF_DATASET_H
#define SF_DATASET_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  int n_eps, cap_eps;
  long rows, cap_rows;
  int32_t *len;
  float *obs, *priv, *act, *rew;
  uint8_t *flags;
} sf_dataset;

void sf_dataset_init(sf_dataset *ds);
void sf_dataset_free(sf_dataset *ds);
/* Append an episode in the replay buffer's layout (obs/priv len + 1 rows,
 * act/rew/flags len rows). Returns 0 or -1 (memory). */
int sf_dataset_add(sf_dataset *ds, int len, const float *obs, const float *priv, const float *act, const float *rew,
                   const uint8_t *flags);
/* Write atomically; metadata key/value pairs may be given (NULL-terminated
 * list of alternating keys and values, or NULL). */
int sf_dataset_write(const sf_dataset *ds, const char *path, const char *const *meta, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
