/* The C API the Python package binds (through cffi, in ABI mode: the
 * package opens libspikefly_py.so and calls these functions; cffi releases
 * the GIL for every call). Small and explicit on purpose: plain types and
 * caller-owned arrays, so numpy arrays pass without copies; every failure
 * returns a code with a message, never exits or aborts the interpreter.
 *
 * The declarations between the cdef markers are read by the package as its
 * cffi declarations: plain C only there (no preprocessor lines). */
#ifndef SF_PYAPI_H
#define SF_PYAPI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* cdef-begin */
enum {
  SF_PY_OBS_DIM = 18,    /* the noisy observation */
  SF_PY_PRIV_DIM = 146,  /* the privileged observation: noise-free 18 + the last 32 actions */
  SF_PY_ACT_DIM = 4,     /* one action per motor, in [-1, 1] */
  SF_PY_STATE_DIM = 17   /* position 3, quaternion 4 (w x y z), velocity 3, angular velocity 3, motors 4 */
};

/* The library's version (the `spikefly` program's). */
const char *sf_py_version(void);

/* --- the batched environment: one agent, num_envs quadrotors ---------- */
typedef struct sf_py_env sf_py_env;

/* `keys`: "section.key=value" lines separated by '\n' (sim.* and env.*
 * keys, the config keys of `spikefly`), or NULL. NULL with the message in
 * err on a bad key or value, or when memory cannot be had. */
sf_py_env *sf_py_env_new(int num_envs, uint64_t seed, const char *keys, char *err, size_t errlen);
void sf_py_env_free(sf_py_env *e);
int sf_py_env_time_limit(const sf_py_env *e); /* steps of an episode */
double sf_py_env_dt(const sf_py_env *e);      /* seconds per step */
/* A new Philox key: every stream starts over, as in a new environment. */
void sf_py_env_seed(sf_py_env *e, uint64_t seed);
void sf_py_env_set_progress(sf_py_env *e, float progress); /* curriculum progress in [0, 1] */
float sf_py_env_progress(const sf_py_env *e);
/* Reset the envs whose mask is non-zero (mask NULL: all), then write every
 * env's observations: obs [N][18], priv [N][146] (either may be NULL). */
void sf_py_env_reset(sf_py_env *e, const uint8_t *mask, float *obs, float *priv);
/* One step of every env with actions [N][4] (clamped to [-1, 1]), except
 * the envs whose reset mask is non-zero: those are reset instead (reward 0,
 * neither terminated nor truncated): gymnasium's next-step autoreset. Then
 * every env's observations. reset may be NULL; any output may be NULL. */
void sf_py_env_step(sf_py_env *e, const float *actions, const uint8_t *reset, float *reward, uint8_t *terminated,
                    uint8_t *truncated, float *obs, float *priv);
/* The true states [N][17]. */
void sf_py_env_states(const sf_py_env *e, float *out);

/* --- a trained actor from a checkpoint, stepped as `spikefly eval` does - */
typedef struct sf_py_actor sf_py_actor;

/* Agent `agent` of a checkpoint (a training run's or a guide). NULL with the
 * message in err. `desc` receives its description, e.g. "snn:obs:256,128". */
sf_py_actor *sf_py_actor_load(const char *path, int agent, char *desc, size_t desclen, char *err, size_t errlen);
void sf_py_actor_free(sf_py_actor *a);
/* One control step for n envs: obs [n][18] and priv [n][146] (priv may be
 * NULL unless the actor reads it), the envs whose reset is non-zero start
 * an episode (their state is cleared first; reset NULL: none), actions
 * [n][4]. A change of n starts every env anew. 0, or -1 with err. */
int sf_py_actor_step(sf_py_actor *a, int n, const float *obs, const float *priv, const uint8_t *reset, float *actions,
                     char *err, size_t errlen);

/* --- commands, in this process --------------------------------------- */
/* Run a `spikefly` command: argv[0] the program's name, argv[1] the
 * command. Returns its exit code (2: bad input, 130: stopped on request).
 * Clears an earlier stop request first; flushes stdout and stderr. */
int sf_py_command(int argc, char **argv);
/* Ask a running training command to stop at its next piece of work (from
 * another thread): it leaves its last checkpoint, resumable. */
void sf_py_request_stop(void);
/* cdef-end */

#ifdef __cplusplus
}
#endif
#endif
