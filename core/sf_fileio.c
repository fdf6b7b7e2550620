/* Atomic file output, whole-file reads, directory checks, CRC32C. */
#define _POSIX_C_SOURCE 200809L
#include "core/sf_fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

/* Byte-wise table of the reflected Castagnoli polynomial 0x82F63B78:
 * entry i is the CRC register after shifting byte i through eight steps. */
static const uint32_t sf_crc32c_table[256] = {
    0x00000000u, 0xf26b8303u, 0xe13b70f7u, 0x1350f3f4u, 0xc79a971fu, 0x35f1141cu,
    0x26a1e7e8u, 0xd4ca64ebu, 0x8ad958cfu, 0x78b2dbccu, 0x6be22838u, 0x9989ab3bu,
    0x4d43cfd0u, 0xbf284cd3u, 0xac78bf27u, 0x5e133c24u, 0x105ec76fu, 0xe235446cu,
    0xf165b798u, 0x030e349bu, 0xd7c45070u, 0x25afd373u, 0x36ff2087u, 0xc494a384u,
    0x9a879fa0u, 0x68ec1ca3u, 0x7bbcef57u, 0x89d76c54u, 0x5d1d08bfu, 0xaf768bbcu,
    0xbc267848u, 0x4e4dfb4bu, 0x20bd8edeu, 0xd2d60dddu, 0xc186fe29u, 0x33ed7d2au,
    0xe72719c1u, 0x154c9ac2u, 0x061c6936u, 0xf477ea35u, 0xaa64d611u, 0x580f5512u,
    0x4b5fa6e6u, 0xb93425e5u, 0x6dfe410eu, 0x9f95c20du, 0x8cc531f9u, 0x7eaeb2fau,
    0x30e349b1u, 0xc288cab2u, 0xd1d83946u, 0x23b3ba45u, 0xf779deaeu, 0x05125dadu,
    0x1642ae59u, 0xe4292d5au, 0xba3a117eu, 0x4851927du, 0x5b016189u, 0xa96ae28au,
    0x7da08661u, 0x8fcb0562u, 0x9c9bf696u, 0x6ef07595u, 0x417b1dbcu, 0xb3109ebfu,
    0xa0406d4bu, 0x522bee48u, 0x86e18aa3u, 0x748a09a0u, 0x67dafa54u, 0x95b17957u,
    0xcba24573u, 0x39c9c670u, 0x2a993584u, 0xd8f2b687u, 0x0c38d26cu, 0xfe53516fu,
    0xed03a29bu, 0x1f682198u, 0x5125dad3u, 0xa34e59d0u, 0xb01eaa24u, 0x42752927u,
    0x96bf4dccu, 0x64d4cecfu, 0x77843d3bu, 0x85efbe38u, 0xdbfc821cu, 0x2997011fu,
    0x3ac7f2ebu, 0xc8ac71e8u, 0x1c661503u, 0xee0d9600u, 0xfd5d65f4u, 0x0f36e6f7u,
    0x61c69362u, 0x93ad1061u, 0x80fde395u, 0x72966096u, 0xa65c047du, 0x5437877eu,
    0x4767748au, 0xb50cf789u, 0xeb1fcbadu, 0x197448aeu, 0x0a24bb5au, 0xf84f3859u,
    0x2c855cb2u, 0xdeeedfb1u, 0xcdbe2c45u, 0x3fd5af46u, 0x7198540du, 0x83f3d70eu,
    0x90a324fau, 0x62c8a7f9u, 0xb602c312u, 0x44694011u, 0x5739b3e5u, 0xa55230e6u,
    0xfb410cc2u, 0x092a8fc1u, 0x1a7a7c35u, 0xe811ff36u, 0x3cdb9bddu, 0xceb018deu,
    0xdde0eb2au, 0x2f8b6829u, 0x82f63b78u, 0x709db87bu, 0x63cd4b8fu, 0x91a6c88cu,
    0x456cac67u, 0xb7072f64u, 0xa457dc90u, 0x563c5f93u, 0x082f63b7u, 0xfa44e0b4u,
    0xe9141340u, 0x1b7f9043u, 0xcfb5f4a8u, 0x3dde77abu, 0x2e8e845fu, 0xdce5075cu,
    0x92a8fc17u, 0x60c37f14u, 0x73938ce0u, 0x81f80fe3u, 0x55326b08u, 0xa759e80bu,
    0xb4091bffu, 0x466298fcu, 0x1871a4d8u, 0xea1a27dbu, 0xf94ad42fu, 0x0b21572cu,
    0xdfeb33c7u, 0x2d80b0c4u, 0x3ed04330u, 0xccbbc033u, 0xa24bb5a6u, 0x502036a5u,
    0x4370c551u, 0xb11b4652u, 0x65d122b9u, 0x97baa1bau, 0x84ea524eu, 0x7681d14du,
    0x2892ed69u, 0xdaf96e6au, 0xc9a99d9eu, 0x3bc21e9du, 0xef087a76u, 0x1d63f975u,
    0x0e330a81u, 0xfc588982u, 0xb21572c9u, 0x407ef1cau, 0x532e023eu, 0xa145813du,
    0x758fe5d6u, 0x87e466d5u, 0x94b49521u, 0x66df1622u, 0x38cc2a06u, 0xcaa7a905u,
    0xd9f75af1u, 0x2b9cd9f2u, 0xff56bd19u, 0x0d3d3e1au, 0x1e6dcdeeu, 0xec064eedu,
    0xc38d26c4u, 0x31e6a5c7u, 0x22b65633u, 0xd0ddd530u, 0x0417b1dbu, 0xf67c32d8u,
    0xe52cc12cu, 0x1747422fu, 0x49547e0bu, 0xbb3ffd08u, 0xa86f0efcu, 0x5a048dffu,
    0x8ecee914u, 0x7ca56a17u, 0x6ff599e3u, 0x9d9e1ae0u, 0xd3d3e1abu, 0x21b862a8u,
    0x32e8915cu, 0xc083125fu, 0x144976b4u, 0xe622f5b7u, 0xf5720643u, 0x07198540u,
    0x590ab964u, 0xab613a67u, 0xb831c993u, 0x4a5a4a90u, 0x9e902e7bu, 0x6cfbad78u,
    0x7fab5e8cu, 0x8dc0dd8fu, 0xe330a81au, 0x115b2b19u, 0x020bd8edu, 0xf0605beeu,
    0x24aa3f05u, 0xd6c1bc06u, 0xc5914ff2u, 0x37faccf1u, 0x69e9f0d5u, 0x9b8273d6u,
    0x88d28022u, 0x7ab90321u, 0xae7367cau, 0x5c18e4c9u, 0x4f48173du, 0xbd23943eu,
    0xf36e6f75u, 0x0105ec76u, 0x12551f82u, 0xe03e9c81u, 0x34f4f86au, 0xc69f7b69u,
    0xd5cf889du, 0x27a40b9eu, 0x79b737bau, 0x8bdcb4b9u, 0x988c474du, 0x6ae7c44eu,
    0xbe2da0a5u, 0x4c4623a6u, 0x5f16d052u, 0xad7d5351u,
};

#if defined(__x86_64__) && defined(__GNUC__)
#include <nmmintrin.h>
#define SF_CRC32C_SSE42 1
/* SSE4.2's crc32 instruction computes CRC32C, 8 bytes a step: about ten
 * times the table's speed, which matters for checkpoints of large buffers. */
__attribute__((target("sse4.2"))) static uint32_t crc32c_sse42(uint32_t c, const unsigned char *p, size_t n) {
  uint64_t c64 = c;
  for (; n >= 8; n -= 8, p += 8) {
    uint64_t v;
    memcpy(&v, p, 8);
    c64 = _mm_crc32_u64(c64, v);
  }
  c = (uint32_t)c64;
  for (; n; --n, ++p) c = _mm_crc32_u8(c, *p);
  return c;
}
#endif

uint32_t sf_crc32c(uint32_t crc, const void *data, size_t n) {
  const unsigned char *p = data;
  crc = ~crc;
#ifdef SF_CRC32C_SSE42
  /* Short inputs (event records) take the table, so both paths stay tested. */
  if (n >= 256 && __builtin_cpu_supports("sse4.2")) return ~crc32c_sse42(crc, p, n);
#endif
  for (size_t i = 0; i < n; ++i) crc = sf_crc32c_table[(crc ^ p[i]) & 0xffu] ^ (crc >> 8);
  return ~crc;
}

void sf_set_err(char *err, size_t errlen, const char *fmt, ...) {
  if (!err || !errlen) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
}

struct sf_afile {
  int fd;
  int failed;
  char *path;
  char *tmp;
  char err[512];
};

static char *concat(const char *a, const char *b) {
  size_t na = strlen(a), nb = strlen(b);
  char *r = malloc(na + nb + 1);
  if (!r) return NULL;
  memcpy(r, a, na);
  memcpy(r + na, b, nb + 1);
  return r;
}

static void afile_free(sf_afile *f) {
  free(f->path);
  free(f->tmp);
  free(f);
}

sf_afile *sf_afile_open(const char *path, char *err, size_t errlen) {
  if (!path || !path[0]) {
    sf_set_err(err, errlen, "empty file name");
    return NULL;
  }
  sf_afile *f = calloc(1, sizeof *f);
  if (!f || !(f->path = concat(path, "")) || !(f->tmp = concat(path, ".tmp"))) {
    sf_set_err(err, errlen, "cannot write '%s': out of memory", path);
    if (f) afile_free(f);
    return NULL;
  }
  f->fd = open(f->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (f->fd < 0) {
    sf_set_err(err, errlen, "cannot create '%s': %s", f->tmp, strerror(errno));
    afile_free(f);
    return NULL;
  }
  return f;
}

static void afile_fail(sf_afile *f, const char *what, int e) {
  if (f->failed) return;
  f->failed = 1;
  snprintf(f->err, sizeof f->err, "cannot %s '%s': %s", what, f->tmp, strerror(e));
}

int sf_afile_write(sf_afile *f, const void *data, size_t n) {
  if (f->failed) return -1;
  const char *p = data;
  while (n) {
    ssize_t w = write(f->fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      afile_fail(f, "write", errno);
      return -1;
    }
    if (w == 0) {
      afile_fail(f, "write", EIO);
      return -1;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

void sf_afile_abort(sf_afile *f) {
  if (!f) return;
  if (f->fd >= 0) close(f->fd);
  unlink(f->tmp);
  afile_free(f);
}

/* Make the rename itself durable: fsync the directory holding `path`. */
static int fsync_parent(const char *path) {
  const char *slash = strrchr(path, '/');
  char *dir;
  if (!slash)
    dir = concat(".", "");
  else if (slash == path)
    dir = concat("/", "");
  else {
    dir = malloc((size_t)(slash - path) + 1);
    if (dir) {
      memcpy(dir, path, (size_t)(slash - path));
      dir[slash - path] = 0;
    }
  }
  if (!dir) return ENOMEM;
  int e = 0;
  int fd = open(dir, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    e = errno;
  } else {
    /* Some filesystems cannot sync a directory; they say EINVAL. */
    if (fsync(fd) != 0 && errno != EINVAL) e = errno;
    close(fd);
  }
  free(dir);
  return e;
}

int sf_afile_commit(sf_afile *f, char *err, size_t errlen) {
  if (!f->failed && fsync(f->fd) != 0) afile_fail(f, "sync", errno);
  if (!f->failed) {
    int rc = close(f->fd);
    f->fd = -1;
    if (rc != 0) afile_fail(f, "close", errno);
  }
  if (!f->failed && rename(f->tmp, f->path) != 0) {
    f->failed = 1;
    snprintf(f->err, sizeof f->err, "cannot rename '%s' to '%s': %s", f->tmp, f->path, strerror(errno));
  }
  if (f->failed) {
    sf_set_err(err, errlen, "%s", f->err);
    sf_afile_abort(f);
    return -1;
  }
  int e = fsync_parent(f->path);
  if (e) sf_set_err(err, errlen, "cannot sync the directory of '%s': %s", f->path, strerror(e));
  afile_free(f);
  return e ? -1 : 0;
}

int sf_write_file_atomic(const char *path, const void *data, size_t n, char *err, size_t errlen) {
  sf_afile *f = sf_afile_open(path, err, errlen);
  if (!f) return -1;
  sf_afile_write(f, data, n);
  return sf_afile_commit(f, err, errlen);
}

FILE *sf_afopen(const char *path, char *err, size_t errlen) {
  if (!path || !path[0]) {
    sf_set_err(err, errlen, "empty file name");
    return NULL;
  }
  char *tmp = concat(path, ".tmp");
  if (!tmp) {
    sf_set_err(err, errlen, "cannot write '%s': out of memory", path);
    return NULL;
  }
  FILE *f = fopen(tmp, "w");
  if (!f) sf_set_err(err, errlen, "cannot create '%s': %s", tmp, strerror(errno));
  free(tmp);
  return f;
}

int sf_afclose(FILE *f, const char *path, int commit, char *err, size_t errlen) {
  char *tmp = concat(path, ".tmp");
  if (!tmp) {
    fclose(f);
    sf_set_err(err, errlen, "cannot write '%s': out of memory", path);
    return -1;
  }
  int e = 0;
  const char *what = "write";
  if (commit) {
    /* A full disk shows at the flush, the sync or the close: each is checked. */
    errno = 0;
    if (fflush(f) != 0 || ferror(f)) e = errno ? errno : EIO;
    else if (fsync(fileno(f)) != 0) e = errno, what = "sync";
  }
  if (fclose(f) != 0 && commit && !e) e = errno, what = "close";
  if (commit && !e && rename(tmp, path) != 0) {
    sf_set_err(err, errlen, "cannot rename '%s' to '%s': %s", tmp, path, strerror(errno));
    unlink(tmp);
    free(tmp);
    return -1;
  }
  if (!commit || e) {
    if (e) sf_set_err(err, errlen, "cannot %s '%s': %s", what, tmp, strerror(e));
    unlink(tmp);
    free(tmp);
    return commit ? -1 : 0;
  }
  free(tmp);
  e = fsync_parent(path);
  if (e) sf_set_err(err, errlen, "cannot sync the directory of '%s': %s", path, strerror(e));
  return e ? -1 : 0;
}

int sf_check_output_file(const char *path, char *err, size_t errlen) {
  struct stat st;
  if (!path || !path[0]) {
    sf_set_err(err, errlen, "empty file name");
    return -1;
  }
  if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
    sf_set_err(err, errlen, "'%s' is a directory, not a file", path);
    return -1;
  }
  /* The temporary file an atomic write will use: creating and removing it
   * asks the filesystem itself (permission bits say little to root). */
  char *tmp = concat(path, ".tmp");
  if (!tmp) {
    sf_set_err(err, errlen, "cannot write '%s': out of memory", path);
    return -1;
  }
  int fd = open(tmp, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  int e = fd < 0 ? errno : 0;
  if (fd >= 0) {
    close(fd);
    unlink(tmp);
  }
  free(tmp);
  if (e) {
    sf_set_err(err, errlen, "cannot write '%s': %s", path, strerror(e));
    return -1;
  }
  return 0;
}

int sf_read_file(const char *path, void **data, size_t *n, char *err, size_t errlen) {
  *data = NULL;
  *n = 0;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    sf_set_err(err, errlen, "cannot open '%s': %s", path, strerror(errno));
    return -1;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    sf_set_err(err, errlen, "'%s' is not a regular file", path);
    close(fd);
    return -1;
  }
  size_t size = (size_t)st.st_size;
  char *buf = malloc(size + 1);
  if (!buf) {
    sf_set_err(err, errlen, "cannot read '%s': out of memory for %zu bytes", path, size);
    close(fd);
    return -1;
  }
  size_t got = 0;
  while (got < size) {
    ssize_t r = read(fd, buf + got, size - got);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      sf_set_err(err, errlen, "cannot read '%s': %s", path, strerror(errno));
      break;
    }
    if (r == 0) {
      sf_set_err(err, errlen, "'%s' shrank while being read", path);
      break;
    }
    got += (size_t)r;
  }
  close(fd);
  if (got < size) {
    free(buf);
    return -1;
  }
  buf[size] = 0;
  *data = buf;
  *n = size;
  return 0;
}

int sf_mkdirs(const char *path, char *err, size_t errlen) {
  if (!path || !path[0]) {
    sf_set_err(err, errlen, "empty directory name");
    return -1;
  }
  char *p = concat(path, "");
  if (!p) {
    sf_set_err(err, errlen, "out of memory");
    return -1;
  }
  /* Create each prefix ending before a '/', then the whole path. */
  for (char *s = p + 1;; ++s) {
    if (*s != '/' && *s != 0) continue;
    char c = *s;
    *s = 0;
    if (mkdir(p, 0755) != 0 && errno != EEXIST) {
      sf_set_err(err, errlen, "cannot create directory '%s': %s", p, strerror(errno));
      free(p);
      return -1;
    }
    *s = c;
    if (!c) break;
  }
  free(p);
  struct stat st;
  if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
    sf_set_err(err, errlen, "'%s' is not a directory", path);
    return -1;
  }
  return 0;
}

int sf_dir_check_writable(const char *dir, uint64_t min_free, char *err, size_t errlen) {
  if (sf_mkdirs(dir, err, errlen) != 0) return -1;
  char probe[4096];
  int len = snprintf(probe, sizeof probe, "%s/.sf_write_probe.%ld", dir, (long)getpid());
  if (len < 0 || (size_t)len >= sizeof probe) {
    sf_set_err(err, errlen, "directory name too long: '%s'", dir);
    return -1;
  }
  int fd = open(probe, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    sf_set_err(err, errlen, "directory '%s' is not writable: %s", dir, strerror(errno));
    return -1;
  }
  /* One block written and synced: a full disk shows here, not hours later. */
  char block[4096];
  memset(block, 0, sizeof block);
  int e = 0;
  ssize_t w = write(fd, block, sizeof block);
  if (w != (ssize_t)sizeof block)
    e = w < 0 ? errno : ENOSPC;
  else if (fsync(fd) != 0)
    e = errno;
  close(fd);
  unlink(probe);
  if (e) {
    sf_set_err(err, errlen, "directory '%s' is not writable: %s", dir, strerror(e));
    return -1;
  }
  struct statvfs vfs;
  if (statvfs(dir, &vfs) != 0) {
    sf_set_err(err, errlen, "cannot query free space of '%s': %s", dir, strerror(errno));
    return -1;
  }
  uint64_t avail = (uint64_t)vfs.f_bavail * (uint64_t)vfs.f_frsize;
  if (avail < min_free) {
    sf_set_err(err, errlen, "directory '%s' has %.1f MiB free, %.1f MiB needed", dir, avail / 1048576.0,
            min_free / 1048576.0);
    return -1;
  }
  return 0;
}
