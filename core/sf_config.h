/* Configuration: INI files (`[section] key = value`, read with libinih) and
 * `section.key=value` overrides, kept as a flat table of dotted keys.
 *
 * Modules read their own keys with typed getters that validate the value
 * (parse, finiteness, range) and record the first error in the config; the
 * caller reads every key it needs, then checks sf_cfg_error() once. A key
 * that no module read is unknown: sf_cfg_check_unused() reports it by name.
 * The command line turns such errors into exit code 2. */
#ifndef SF_CONFIG_H
#define SF_CONFIG_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sf_config sf_config;

sf_config *sf_cfg_new(void);
void sf_cfg_free(sf_config *cfg);

/* Merge an INI file into the table (later values win). Returns 0, or -1 with
 * the error recorded (missing file, a line that does not parse). */
int sf_cfg_load_file(sf_config *cfg, const char *path);
/* Set one dotted key ("section.key", or "key" for a top-level one). */
int sf_cfg_set(sf_config *cfg, const char *key, const char *value);
/* Remove a key (0), or -1 when it is not set. */
int sf_cfg_remove(sf_config *cfg, const char *key);
/* Parse an override "section.key=value". */
int sf_cfg_set_override(sf_config *cfg, const char *assignment);

/* Typed getters: the default when the key is absent. A value that does not
 * parse, is not finite, or lies outside [min, max] records an error naming
 * the key and returns the default. Each marks the key as used. */
long sf_cfg_int(sf_config *cfg, const char *key, long def, long min, long max);
double sf_cfg_float(sf_config *cfg, const char *key, double def, double min, double max);
int sf_cfg_bool(sf_config *cfg, const char *key, int def);
const char *sf_cfg_str(sf_config *cfg, const char *key, const char *def);
/* One of `choices` (a NULL-terminated list); returns its index. */
int sf_cfg_choice(sf_config *cfg, const char *key, const char *def, const char *const *choices);
/* A comma-separated list of numbers, each within [min, max]; returns the
 * count written to out (at most cap), or the default list when absent. */
int sf_cfg_floats(sf_config *cfg, const char *key, const double *def, int ndef,
                  double min, double max, double *out, int cap);

int sf_cfg_has(const sf_config *cfg, const char *key);
/* The raw string of a key without marking it used, or NULL. */
const char *sf_cfg_peek(const sf_config *cfg, const char *key);

/* Record an error (printf-style) unless one is recorded already. */
void sf_cfg_fail(sf_config *cfg, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The first recorded error, or NULL. */
const char *sf_cfg_error(const sf_config *cfg);
/* Record an error for the first key that was set but never read. Returns 0
 * when every key was used. */
int sf_cfg_check_unused(sf_config *cfg);

/* Iterate over the table in insertion order (for writing a run's config). */
int sf_cfg_count(const sf_config *cfg);
void sf_cfg_entry(const sf_config *cfg, int i, const char **key, const char **value);
/* The keys a getter read while they were absent, with the default it took
 * (as text a getter parses back to the same value): with the table, every
 * effective setting of a command. */
int sf_cfg_default_count(const sf_config *cfg);
void sf_cfg_default_entry(const sf_config *cfg, int i, const char **key, const char **value);
/* Write every key as an INI file (sections grouped). Returns 0 or -1. */
int sf_cfg_write_ini(const sf_config *cfg, const char *path);

#ifdef __cplusplus
}
#endif
#endif
