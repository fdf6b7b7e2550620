/* Sets of trainer buffers, each declared once as a table of (name, element
 * type, shape, the struct field that points to it). From the table come:
 * allocation (one block per set, each buffer at a 64-byte aligned offset),
 * freeing (the block), host <-> device copies (a device block of the same
 * layout: one copy moves the whole set) and the checkpoint's tensor list.
 * Adding a buffer to a set is one line in its table (rl/sf_trainer_buffers.c).
 *
 * The struct a set points into holds a pointer per table entry (`field` is
 * its offsetof), beside anything else. */
#ifndef SF_BUFFERS_H
#define SF_BUFFERS_H

#include <stddef.h>
#include <stdint.h>

#include "core/sf_safetensors.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { SF_BUF_MAX = 16, SF_BUF_DIMS = 4 };

typedef struct {
  const char *name;  /* tensor name in a checkpoint, e.g. "stage.obs" */
  sf_st_dtype dtype; /* SF_ST_F32, SF_ST_I32 or SF_ST_U8 */
  size_t field;      /* offsetof the pointer in the set's struct */
  int ndim;
  int64_t shape[SF_BUF_DIMS];
} sf_buffer_spec;

typedef struct {
  int n;
  sf_buffer_spec spec[SF_BUF_MAX];
  size_t offset[SF_BUF_MAX]; /* of each buffer in the block */
  size_t bytes;              /* of the whole block */
} sf_buffer_layout;

/* Lay the specs out in one block. */
void sf_buffer_layout_make(sf_buffer_layout *l, const sf_buffer_spec *spec, int n);
/* Bytes of one buffer. */
size_t sf_buffer_bytes(const sf_buffer_spec *b);
/* Point every field of `fields` into `block` (host or device memory). */
void sf_buffer_point(const sf_buffer_layout *l, void *fields, void *block);
/* A zeroed host block for the layout, the fields pointed into it; NULL
 * (fields untouched) when memory cannot be had. Free with free(). */
void *sf_buffer_alloc(const sf_buffer_layout *l, void *fields);

/* Add every buffer to a checkpoint / read every buffer back from one.
 * Reading returns 0, or -1 with a message naming the tensor. */
void sf_buffer_save(const sf_buffer_layout *l, const void *fields, sf_st_writer *w);
int sf_buffer_load(const sf_buffer_layout *l, void *fields, const sf_st_file *f, char *err, size_t errlen);

/* The same for sets of [P][R][...] rows of which only the first `rows` of
 * each agent's R hold data (a replay buffer below its high-water mark): the
 * tensors are [P][rows][...]. */
void sf_buffer_save_rows(const sf_buffer_layout *l, const void *fields, int64_t rows, sf_st_writer *w);
int sf_buffer_load_rows(const sf_buffer_layout *l, void *fields, int64_t rows, const sf_st_file *f, char *err,
                        size_t errlen);
/* Bytes of one row (one [P][R] cell) of buffer i of such a set. */
size_t sf_buffer_row_bytes(const sf_buffer_layout *l, int i);

#ifdef __cplusplus
}
#endif
#endif
