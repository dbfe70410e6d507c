/*
 * drive/zdiff.h - `zfs diff -FHt` output (pure: parsed here, run by cmd/diff.c).
 *
 * Each line is "TIME<TAB>CHANGE<TAB>TYPE<TAB>PATH[<TAB>NEW_PATH]": TIME the
 * inode's change time as seconds.nanoseconds, CHANGE one of - + M R
 * (removed, created, modified, renamed), TYPE one of F / @ | = B C > P (file,
 * directory, symlink, fifo, socket, block and char device, door, event
 * port). zfs escapes bytes outside printable ASCII, backslash and space in
 * paths as \NNNN (four octal digits, "\\%04hho"); zdiff_parse() decodes them.
 *
 * Ownership: the zdiff owns its entries; zdiff_release() releases them.
 */
#ifndef ZKEEP_ZDIFF_H
#define ZKEEP_ZDIFF_H

#include "base/zkeep.h"
#include "base/strbuf.h"

#define ZDIFF_MAX_ENTRIES (1u << 22)

struct zdiff_entry {
	int64_t sec;
	uint32_t nsec;
	char change;      /* '-', '+', 'M', 'R' */
	char type;        /* 'F', '/', '@', ... */
	char *path;       /* decoded */
	char *new_path;   /* for 'R', else NULL */
};

struct zdiff {
	struct zdiff_entry *e;
	size_t n;
};
#define ZDIFF_INIT { .e = NULL, .n = 0 }

/* 0, or -EINVAL with the offending line number in err (nothing kept then). */
int zdiff_parse(const char *buf, size_t len, struct zdiff *out, struct strbuf *err);
void zdiff_release(struct zdiff *d);

/* "removed", "created", "modified", "renamed". */
const char *zdiff_change_name(char change);
/* "file", "directory", "symlink", ... */
const char *zdiff_type_name(char type);
/* Decode zfs's \NNNN escapes of s (len bytes) into a new string (caller frees); NULL when malformed. */
char *zdiff_unescape(const char *s, size_t len);

#endif
