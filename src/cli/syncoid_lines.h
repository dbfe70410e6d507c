/*
 * cli/syncoid_lines.h - syncoid 2.3.0's words for what a replication does.
 *
 * Pure: from an engine event (replication/replicate.h) and the run's options,
 * the lines syncoid 2.3.0 prints for the same thing, with the level its
 * writelog() gives them (LOG_LVL_NOTICE is its INFO). Scripts and monitoring
 * wrappers grep these lines, so the words are syncoid's to the character
 * ("Sending oldest full snapshot tank/a@s1 to new target filesystem
 * backup/a (~ 42 KB):"). Where syncoid describes a shell pipeline zkeep does
 * not run, there are no lines here: the printer shows zkeep's own message.
 */
#ifndef ZKEEP_CLI_SYNCOID_LINES_H
#define ZKEEP_CLI_SYNCOID_LINES_H

#include "base/log.h"
#include "base/strbuf.h"
#include "replication/replicate.h"

/* What syncoid's wording depends on besides the event. */
struct syncoid_run {
	bool no_stream;      /* --no-stream */
	bool snaps_filtered; /* --include-snaps or --exclude-snaps */
	bool recursive;      /* --recursive */
	/* a remote side's "[user@]host" as the command line gave it (syncoid's
	 * buildnicename() puts it before the names a send line shows), or NULL */
	const char *source_host, *target_host;
};

/* A line printed as syncoid's die() prints it: as it is, on stderr. */
#define SYNCOID_RAW (-1)

#define SYNCOID_MAX_LINES 3
struct syncoid_lines {
	size_t n;
	int level[SYNCOID_MAX_LINES]; /* enum log_level, or SYNCOID_RAW */
	struct strbuf text[SYNCOID_MAX_LINES];
};

void syncoid_lines_init(struct syncoid_lines *l);
void syncoid_lines_release(struct syncoid_lines *l);

/*
 * syncoid's readablebytes() of a send size estimate as its getsendsize()
 * leaves it: 0 (unknown) is "UNKNOWN", less than 4096 counts as 4096, then
 * "%d KB" (truncated), "%.1f MB" above 1 MiB, "%.1f GB" above 1 GiB.
 */
void syncoid_size(struct strbuf *sb, uint64_t bytes);

/*
 * The lines syncoid prints for ev, appended to out (emptied first); returns
 * how many. 0: syncoid has no words of its own for it, show zkeep's message.
 */
size_t syncoid_event_lines(const struct syncoid_run *run, const struct replicate_event *ev,
			   struct syncoid_lines *out);

#endif
