/*
 * base/strvec.h - a growable vector of owned strings, always NULL-terminated.
 *
 * After git's strvec. `v` can be passed straight to execve() as argv: after
 * any push, v[n] == NULL. An empty strvec has v pointing at a shared
 * { NULL } array, so it is also a valid (empty) argv.
 *
 * The strvec owns every string it holds (push copies). strvec_release() frees
 * them all and leaves an empty, reusable strvec. Out of memory aborts; a
 * vector longer than STRVEC_MAX entries is a bug or hostile input and aborts
 * too (callers that take a count from outside check it first).
 */
#ifndef ZKEEP_STRVEC_H
#define ZKEEP_STRVEC_H

#include "base/zkeep.h"

#define STRVEC_MAX ((size_t)1 << 24)

struct strvec {
	char **v;
	size_t n;
	size_t alloc;
};

extern char *strvec_empty[];
#define STRVEC_INIT { .v = strvec_empty, .n = 0, .alloc = 0 }

void strvec_init(struct strvec *sv);
/* Append a copy of s; returns the copy. */
const char *strvec_push(struct strvec *sv, const char *s);
const char *strvec_pushf(struct strvec *sv, const char *fmt, ...) PRINTF(2, 3);
/* Append an owned string without copying (the strvec frees it). */
void strvec_push_nodup(struct strvec *sv, char *s);
/* Append copies of each string of a NULL-terminated array. */
void strvec_pushv(struct strvec *sv, const char *const *items);
/* Remove and free the last entry (no-op when empty). */
void strvec_pop(struct strvec *sv);
/* Remove and free entry i (< n), keeping the order of the rest. */
void strvec_remove(struct strvec *sv, size_t i);
void strvec_release(struct strvec *sv);
/* Index of s in sv, or -1. */
ssize_t strvec_find(const struct strvec *sv, const char *s);
/* Sort with strcmp. */
void strvec_sort(struct strvec *sv);
/*
 * Split s at every character in seps, skipping empty fields, and append each
 * field (e.g. strvec_split(&sv, "a, b", ", ")).
 */
void strvec_split(struct strvec *sv, const char *s, const char *seps);
/* Join with sep into a new string (caller frees). */
char *strvec_join(const struct strvec *sv, const char *sep);

static inline void cleanup_strvec(struct strvec *sv) { strvec_release(sv); }
#define _cleanup_strvec_ _cleanup_(cleanup_strvec)

/* A NULL-terminated argv literal: ARGV("zfs", "list", name). The one macro for it. */
#define ARGV(...) ((const char *const[]){ __VA_ARGS__, NULL })

#endif
