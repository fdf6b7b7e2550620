/* safetensors files: checkpoints that Python's safetensors (numpy, torch)
 * loads unchanged.
 *
 * Layout: an 8-byte little-endian header length N, N bytes of JSON
 *   {"name": {"dtype": "F32", "shape": [256, 18], "data_offsets": [b, e]},
 *    ..., "__metadata__": {"key": "value", ...}}
 * padded with spaces to a multiple of 8, then the data section: every tensor's
 * raw little-endian row-major bytes, [b, e) relative to the section's start,
 * contiguous and without gaps.
 *
 * Integrity: the writer stores a CRC32C (see sf_fileio.h) in the metadata key
 * "spikefly.crc32c" as 8 lowercase hex digits. It covers the whole file --
 * length prefix, header and data section -- computed with those 8 digits
 * replaced by '0'. So a flipped bit anywhere (a tensor's bytes, its shape,
 * a metadata value) is detected, not only in the data.
 *
 * The reader validates strictly and refuses, with a message naming the file
 * and the problem, anything that is not exactly such a file: size against
 * header length, JSON syntax (a strict parser of this subset: UTF-8, no
 * duplicate keys, no unknown fields, integers only), known dtypes, shapes,
 * offsets (in bounds, matching the shape, non-overlapping, covering the data
 * section), and the checksum. It never crashes on a bad file.
 *
 * Tensors are written in order of decreasing element size (then in the order
 * they were added), so every tensor's data is aligned to its element size. */
#ifndef SF_SAFETENSORS_H
#define SF_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
  SF_ST_BOOL,
  SF_ST_U8,
  SF_ST_I8,
  SF_ST_F8_E5M2,
  SF_ST_F8_E4M3,
  SF_ST_U16,
  SF_ST_I16,
  SF_ST_F16,
  SF_ST_BF16,
  SF_ST_U32,
  SF_ST_I32,
  SF_ST_F32,
  SF_ST_U64,
  SF_ST_I64,
  SF_ST_F64,
  SF_ST_NDTYPES
} sf_st_dtype;

enum { SF_ST_MAX_DIMS = 8 };

/* The metadata keys of the checksums (CRC32C, 8 lowercase hex digits).
 * SF_ST_CRC_KEY covers the file's bytes (its own digits counted as '0'):
 * any change to the file shows. SF_ST_CONTENT_CRC_KEY covers what the file
 * holds, whatever its layout: the metadata but the checksums, in key order
 * (key NUL value NUL), then the tensors in name order (name NUL dtype NUL,
 * ndim and each extent as little-endian uint64, the data bytes). A file that
 * another writer re-saved with the same tensors and metadata (Python's
 * safetensors orders and pads the header its own way) keeps the second. */
#define SF_ST_CRC_KEY "spikefly.crc32c"
#define SF_ST_CONTENT_CRC_KEY "spikefly.content_crc32c"

/* "F32" etc., or NULL for a value outside the enum. */
const char *sf_st_dtype_name(sf_st_dtype dt);
/* Bytes per element, 0 for a value outside the enum. */
size_t sf_st_dtype_size(sf_st_dtype dt);

/* ---- writing ---------------------------------------------------------- */

typedef struct sf_st_writer sf_st_writer;

sf_st_writer *sf_st_writer_new(void);
void sf_st_writer_free(sf_st_writer *w);

/* Add a tensor of shape[0..ndim) (ndim 0: a scalar). sf_st_add borrows
 * `data`, which must stay valid and unchanged until sf_st_write returns (no
 * copy of large buffers); sf_st_add_copy copies it. Names are non-empty
 * UTF-8 without control characters, unique, and not "__metadata__".
 * Returns 0, or -1 with the problem kept for sf_st_writer_error. */
int sf_st_add(sf_st_writer *w, const char *name, sf_st_dtype dt, int ndim, const int64_t *shape,
              const void *data);
int sf_st_add_copy(sf_st_writer *w, const char *name, sf_st_dtype dt, int ndim, const int64_t *shape,
                   const void *data);
/* Set a metadata entry (copied; setting a key again replaces its value). */
int sf_st_set_meta(sf_st_writer *w, const char *key, const char *value);
/* The first problem recorded by an add/set call, or NULL. */
const char *sf_st_writer_error(const sf_st_writer *w);

/* Write the file atomically (see sf_fileio.h). Fails with the recorded
 * problem if an add/set call failed. Returns 0 or -1 (message in err). */
int sf_st_write(sf_st_writer *w, const char *path, char *err, size_t errlen);

/* ---- reading ---------------------------------------------------------- */

typedef struct {
  const char *name;
  sf_st_dtype dtype;
  int ndim;
  int64_t shape[SF_ST_MAX_DIMS];
  uint64_t numel;
  size_t nbytes;
  const void *data; /* aligned to 16 bytes plus the tensor's offset */
} sf_st_tensor;

typedef struct sf_st_file sf_st_file;

enum {
  /* Accept a file without checksums (one written by another tool). A
   * checksum that is present is always verified: the file checksum, or
   * where it does not match (the file was re-serialised), the content one. */
  SF_ST_ALLOW_NO_CRC = 1,
};

/* Read and validate a whole file. NULL on failure (message in err). */
sf_st_file *sf_st_open(const char *path, unsigned flags, char *err, size_t errlen);
/* The same from memory; `label` names the source in messages. The bytes are
 * copied, buf may be freed afterwards. */
sf_st_file *sf_st_parse(const void *buf, size_t n, const char *label, unsigned flags, char *err,
                        size_t errlen);
void sf_st_close(sf_st_file *f);
/* 1 when a checksum of the file verified it, 0 for a file without one. */
int sf_st_checksummed(const sf_st_file *f);
/* For a loader that has validated the tensors it took: err receives a note
 * naming `path` when the file had no checksum, else "". */
void sf_st_note_unchecked(const sf_st_file *f, const char *path, char *err, size_t errlen);

/* Tensors in the order of their data offsets. */
int sf_st_count(const sf_st_file *f);
const sf_st_tensor *sf_st_tensor_at(const sf_st_file *f, int i);
/* NULL when there is no such tensor. */
const sf_st_tensor *sf_st_find(const sf_st_file *f, const char *name);

/* The tensor `name` with exactly this dtype and shape, or NULL with a
 * message naming the file, the tensor, what was expected and what was found,
 * e.g. "x.safetensors: tensor 'actor.fc1.weight' has shape [256,17],
 * expected [256,18]". */
const sf_st_tensor *sf_st_get(const sf_st_file *f, const char *name, sf_st_dtype dt, int ndim,
                              const int64_t *shape, char *err, size_t errlen);
/* sf_st_get, then copy the data to out (nbytes of it). Returns 0 or -1. */
int sf_st_read(const sf_st_file *f, const char *name, sf_st_dtype dt, int ndim, const int64_t *shape,
               void *out, char *err, size_t errlen);

/* Metadata in file order; sf_st_meta returns NULL for an absent key. */
int sf_st_meta_count(const sf_st_file *f);
void sf_st_meta_at(const sf_st_file *f, int i, const char **key, const char **value);
const char *sf_st_meta(const sf_st_file *f, const char *key);
/* A metadata value that must be present, or NULL with a message. */
const char *sf_st_meta_require(const sf_st_file *f, const char *key, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
