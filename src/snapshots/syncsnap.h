/*
 * snapshots/syncsnap.h - names of syncoid's sync snapshots and hold tags (pure).
 *
 * syncoid names the snapshot it takes before each run
 *
 *     syncoid_[ID_]HOSTNAME_YYYY-MM-DD_hh:mm:ss-GMT[-]hh:mm
 *
 * in local time, with the UTC offset after "GMT" (a positive offset has no
 * '+': ZFS names cannot contain one). Releases up to 2.3.0 wrote a ':'
 * between date and time ("..._2026-11-22:16:02:21-GMT01:00"); both forms are
 * recognised. The part before the date, "syncoid_[ID_]HOSTNAME", is the
 * prefix: it is also the hold tag of --use-hold, and after a good run the
 * older sync snapshots with the same prefix are destroyed.
 *
 * Recognition is strict (prefix, '_', a well-formed stamp, nothing after), so
 * the snapshots of host "web" never match those of host "web2".
 *
 * Strings returned are newly allocated; the caller frees them.
 */
#ifndef ZKEEP_SYNCSNAP_H
#define ZKEEP_SYNCSNAP_H

#include "base/zkeep.h"

#include <time.h>

/* syncoid's --identifier rule: [a-zA-Z0-9-_:.]+ */
bool syncsnap_identifier_valid(const char *id);

/* "syncoid_[ID_]HOSTNAME"; id may be NULL or "" (none). */
char *syncsnap_prefix(const char *id, const char *hostname);

/* The new sync snapshot's short name for local time t. */
char *syncsnap_name(const char *prefix, time_t t);

/* Whether short_name is a sync snapshot of exactly this prefix (either form). */
bool syncsnap_matches(const char *short_name, const char *prefix);

/* Whether short_name looks like any syncoid sync snapshot (any host/id). */
bool syncsnap_is_sync(const char *short_name);

/*
 * Whether a hold tag is a replication's protection: tags starting with
 * "syncoid_" (syncoid --use-hold and zkeep's syncoid) or "zkeep_" (zkeep
 * replicate). A snapshot with such a hold must not be pruned (ZFS refuses
 * to destroy a held snapshot anyway; pruning code should skip it quietly
 * instead of failing).
 */
bool syncsnap_hold_tag_protects(const char *tag);

#endif
