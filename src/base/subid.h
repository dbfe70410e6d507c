/*
 * base/subid.h - whose subordinate ids (/etc/subuid, /etc/subgid) hold an id.
 *
 * A user given a subordinate range can map any id in it into a user
 * namespace of theirs (newuidmap), and the kernel then treats that user's
 * processes as that id: `zfs allow` grants to it, files it owns and a
 * socket's peer credentials included. zkeep lends grants only to ids no such
 * range holds (confine/grants.c).
 */
#ifndef ZKEEP_BASE_SUBID_H
#define ZKEEP_BASE_SUBID_H

#include "base/zkeep.h"

#define SUBUID_PATH "/etc/subuid"
#define SUBGID_PATH "/etc/subgid"

struct subid_range {
	char owner[64]; /* the line's first field, cut at 63 bytes */
	uint64_t first, count;
	unsigned line; /* 1-based */
};

/*
 * Whether a line of text (a subuid or subgid file: OWNER:FIRST:COUNT a line)
 * gives a range that holds id: 1 with *hit set to the first such line, or 0.
 * Numbers are read both as shadow's tools of different versions read them
 * (decimal, and C's 0x / leading-0 forms); a line holds id if either
 * reading does, so no reading a tool may make is missed. Other lines are
 * skipped, as those tools skip them.
 */
int subid_find(const char *text, size_t len, uint64_t id, struct subid_range *hit);

/* subid_find() on the file at path: 0 also when it does not exist; -errno. */
int subid_file_find(const char *path, uint64_t id, struct subid_range *hit);

#endif
