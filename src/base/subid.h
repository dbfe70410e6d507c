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
 * Read no narrower than shadow's tools: a line ends at a NUL, fields past
 * the third are ignored (as up to shadow 4.17), numbers are read as C's
 * strtoul reads them in base 0 (0x, leading 0) and also as decimal. Lines
 * none of those readings make a range of are skipped, as the tools skip them.
 */
int subid_find(const char *text, size_t len, uint64_t id, struct subid_range *hit);

/* subid_find() on the file at path: 0 also when it does not exist; -errno. */
int subid_file_find(const char *path, uint64_t id, struct subid_range *hit);

/*
 * Whether a uid_map or gid_map (/proc/PID/uid_map: INSIDE OUTSIDE COUNT a
 * line, OUTSIDE as the reader's namespace sees it) maps some id of the
 * namespace onto id: 1 or 0. Lines of another shape are skipped.
 */
int subid_map_find(const char *text, size_t len, uint64_t id);

/*
 * Whether a process in a user namespace other than this process's, and not
 * made by root, already maps an id onto id (its uid_map or gid_map, through
 * proc_dir, "/proc"): a mapping made from a subordinate range outlives that
 * range's line. 1 with *pid set, 0, or -errno when proc_dir cannot be read.
 * Best effort: processes this one cannot see (a unit's ProtectProc=) and a
 * namespace kept alive with no process in it are not found.
 */
int subid_userns_find(const char *proc_dir, uint64_t id, pid_t *pid);

#endif
