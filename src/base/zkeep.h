/*
 * base/zkeep.h - the common prelude of every zkeep source file.
 *
 * System headers every module uses, the cleanup helpers (after bubblewrap and
 * systemd: variables that free themselves at scope exit, steal_pointer() to
 * hand ownership on), xmalloc-style allocators that abort on out-of-memory
 * (nothing sensible can be done then), and banned.h last.
 */
#ifndef ZKEEP_ZKEEP_H
#define ZKEEP_ZKEEP_H

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define NORETURN __attribute__((noreturn))
#define PRINTF(f, a) __attribute__((format(printf, f, a)))
#define UNUSED __attribute__((unused))
#define WARN_UNUSED __attribute__((warn_unused_result))

/* Free-at-scope-exit. `_cleanup_free_ char *s = NULL;` */
#define _cleanup_(f) __attribute__((cleanup(f)))
#define _cleanup_free_ _cleanup_(cleanup_freep)
#define _cleanup_fd_ _cleanup_(cleanup_closep)
#define _cleanup_fclose_ _cleanup_(cleanup_fclosep)
static inline void cleanup_freep(void *p) { free(*(void **)p); }
static inline void cleanup_closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}
static inline void cleanup_fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

/*
 * Lifetimes have one naming rule (git's): x_init() or X_INIT fills a struct,
 * x_release(struct x *) frees what it owns and leaves it as X_INIT (safe to
 * call twice, and on an X_INIT struct), x_free(struct x *) frees what x_new()
 * allocated (NULL is fine). So every owned type has its cleanup helper:
 *   _cleanup_release_(zfs_tree) struct zfs_tree t = ZFS_TREE_INIT;
 *   _cleanup_(runner_freep) struct runner *r = NULL;   (DEFINE_FREEP(runner))
 */
#define _cleanup_release_(type) _cleanup_(type##_release)
#define DEFINE_FREEP(type) \
	static inline void type##_freep(struct type **p) { type##_free(*p); }

/* Take ownership out of a cleanup variable: `return steal_pointer(&s);` */
static inline void *steal_pointer_impl(void *pp)
{
	void **p = pp, *v = *p;
	*p = NULL;
	return v;
}
#define steal_pointer(pp) ((__typeof__(*(pp)))steal_pointer_impl(pp))
static inline int steal_fd(int *fd)
{
	int v = *fd;
	*fd = -1;
	return v;
}

/* Allocation that cannot fail: out of memory aborts with a message. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
void *xreallocarray(void *p, size_t n, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) PRINTF(1, 2);

/* True when the two strings are equal; NULL-safe (NULL equals only NULL). */
static inline bool streq(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}
/* If s starts with prefix, return the rest of s, else NULL. */
static inline const char *skip_prefix(const char *s, const char *prefix)
{
	size_t n = strlen(prefix);
	return strncmp(s, prefix, n) == 0 ? s + n : NULL;
}
static inline bool ends_with(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);
	return ls >= lx && memcmp(s + ls - lx, suffix, lx) == 0;
}

/* True when every byte of s is an ASCII letter or digit or one of extra. Config
 * values that end up in unit files, argv words or file names are checked this way:
 * a whitelist, never a list of bad characters. */
static inline bool only_alnum_or(const char *s, const char *extra)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || strchr(extra, *s)))
			return false;
	return true;
}
/* A [job NAME] or [drive NAME]: part of unit, lock and run-directory names, so
 * 1 to 64 of [A-Za-z0-9_.-] and never "." or "..". */
static inline bool section_name_ok(const char *s)
{
	return s && *s && strlen(s) <= 64 && !streq(s, ".") && !streq(s, "..") &&
	       only_alnum_or(s, "_.-");
}

#include "base/banned.h"

#endif
