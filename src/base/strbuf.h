/*
 * base/strbuf.h - a growable, always NUL-terminated byte buffer with a size cap.
 *
 * After git's strbuf. `buf` is never NULL: an empty strbuf points at a shared
 * empty string, so `sb.buf` can always be printed. `len` bytes are in use and
 * buf[len] == '\0'. The buffer may hold NUL bytes (output of a command).
 *
 * Every strbuf has a cap (STRBUF_DEFAULT_CAP unless set with strbuf_init()):
 * an append that would grow it past the cap appends nothing and returns
 * -E2BIG, so input from outside (a command's output, a file) cannot grow
 * without bound. Out of memory aborts (xmalloc).
 *
 * Ownership: the strbuf owns buf; strbuf_release() frees it and leaves an
 * empty strbuf that may be reused; strbuf_detach() hands the string to the
 * caller (who frees it) and leaves the strbuf empty.
 */
#ifndef ZKEEP_STRBUF_H
#define ZKEEP_STRBUF_H

#include "base/zkeep.h"

#define STRBUF_DEFAULT_CAP ((size_t)256 << 20) /* 256 MiB */

struct strbuf {
	char *buf;
	size_t len;
	size_t alloc; /* 0 while buf is the shared empty string */
	size_t cap;   /* maximum len; 0 means STRBUF_DEFAULT_CAP */
};

extern char strbuf_empty[];
#define STRBUF_INIT { .buf = strbuf_empty, .len = 0, .alloc = 0, .cap = 0 }

/* Initialise with a cap (0 = default). */
void strbuf_init(struct strbuf *sb, size_t cap);
void strbuf_release(struct strbuf *sb);
char *strbuf_detach(struct strbuf *sb);
/* Make room for `extra` more bytes; -E2BIG if that passes the cap. */
int strbuf_grow(struct strbuf *sb, size_t extra);
/* Set len to n (n <= len), keeping the terminator. */
void strbuf_setlen(struct strbuf *sb, size_t n);
static inline void strbuf_reset(struct strbuf *sb) { strbuf_setlen(sb, 0); }

/* Append; each returns 0 or -E2BIG (nothing appended then). */
int strbuf_add(struct strbuf *sb, const void *data, size_t n);
int strbuf_addstr(struct strbuf *sb, const char *s);
int strbuf_addch(struct strbuf *sb, char c);
int strbuf_addf(struct strbuf *sb, const char *fmt, ...) PRINTF(2, 3);
int strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap) PRINTF(2, 0);

/*
 * A byte count for humans, in binary units: under 1 KiB the count ("512 B"),
 * else KiB, MiB, GiB, TiB or PiB with `decimals` digits ("1.50 GiB" for 2).
 * Every size zkeep prints goes through here; 0 or -E2BIG.
 */
int strbuf_add_bytes(struct strbuf *sb, double bytes, int decimals);

/* Drop trailing whitespace (output of a command usually ends in "\n"). */
void strbuf_rtrim(struct strbuf *sb);

/*
 * Read everything from fd until EOF (retrying EINTR). Returns 0, -E2BIG when
 * the cap is reached (what fit is kept), or -errno of read().
 */
int strbuf_read_fd(struct strbuf *sb, int fd);
/*
 * Write all n bytes of buf to fd, retrying EINTR and short writes: 0, or
 * -errno of write() (-EIO if it wrote nothing). Async-signal-safe.
 */
int fd_write_all(int fd, const void *buf, size_t n);
/* Read a whole file; 0 or -errno (-E2BIG past the cap). */
int strbuf_read_file(struct strbuf *sb, const char *path);

static inline void cleanup_strbuf(struct strbuf *sb) { strbuf_release(sb); }
#define _cleanup_strbuf_ _cleanup_(cleanup_strbuf)

#endif
