/* File output that survives crashes and full disks, and the CRC32C checksum
 * the checkpoint and event-file formats share.
 *
 * An atomic write goes to `<path>.tmp` in the same directory, is fsync'ed,
 * renamed over `<path>`, and the directory is fsync'ed: a reader (or a run
 * resumed after SIGKILL or power loss) sees either the previous file or the
 * complete new one, never a torn one. Any failure removes the temporary file
 * and leaves the previous file untouched.
 *
 * Errors are reported as a message naming the file and the cause in a
 * caller's buffer `err` of `errlen` bytes (may be NULL / 0). */
#ifndef SF_FILEIO_H
#define SF_FILEIO_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Write a printf-style message into a caller's error buffer err of errlen
 * bytes (nothing when err is NULL or errlen 0): how every function here and
 * the library's loaders report. */
void sf_set_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* CRC32C (Castagnoli polynomial 0x1EDC6F41, reflected, init and final xor
 * 0xFFFFFFFF). Start with crc = 0 and feed the data in pieces:
 * sf_crc32c(sf_crc32c(0, a, na), b, nb) == CRC32C of a followed by b.
 * CRC32C("123456789") == 0xE3069283. */
uint32_t sf_crc32c(uint32_t crc, const void *data, size_t n);

/* An atomic write in progress. Every call after the first failure is a no-op
 * that returns -1; commit then reports the first failure. */
typedef struct sf_afile sf_afile;

/* Create `<path>.tmp`. NULL on failure (message in err). */
sf_afile *sf_afile_open(const char *path, char *err, size_t errlen);
/* Append n bytes. Returns 0 or -1. */
int sf_afile_write(sf_afile *f, const void *data, size_t n);
/* Flush, fsync, rename over the target, fsync the directory, free f.
 * Returns 0, or -1 (message in err) with the temporary file removed and the
 * previous file intact. */
int sf_afile_commit(sf_afile *f, char *err, size_t errlen);
/* Give up: remove the temporary file, free f. NULL is allowed. */
void sf_afile_abort(sf_afile *f);

/* The whole file in one call. Returns 0 or -1. */
int sf_write_file_atomic(const char *path, const void *data, size_t n, char *err, size_t errlen);

/* The same through stdio, for text written in many small pieces: the stream
 * writes `<path>.tmp`. sf_afclose with commit = 1 flushes, syncs and renames
 * it over `path` (0, or -1 with the message in err, the temporary file
 * removed and the previous file intact); with commit = 0 it gives up. */
FILE *sf_afopen(const char *path, char *err, size_t errlen);
int sf_afclose(FILE *f, const char *path, int commit, char *err, size_t errlen);

/* Before a long run: an output file `path` can be created or replaced (it is
 * not a directory, its directory exists and takes a new file). Touches no
 * existing file. Returns 0 or -1. */
int sf_check_output_file(const char *path, char *err, size_t errlen);

/* Read a whole regular file into a malloc'ed buffer (*data, *n; one extra
 * zero byte follows the data). Returns 0 or -1. */
int sf_read_file(const char *path, void **data, size_t *n, char *err, size_t errlen);

/* mkdir -p. Returns 0 when `path` is (now) a directory, else -1. */
int sf_mkdirs(const char *path, char *err, size_t errlen);

/* Fail early, before a long run: `dir` exists or can be created, a file can
 * really be created, written and removed in it (permission bits alone say
 * little when running as root; a read-only or full filesystem says more), and
 * at least `min_free` bytes are available to an unprivileged writer.
 * Returns 0 or -1. */
int sf_dir_check_writable(const char *dir, uint64_t min_free, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
