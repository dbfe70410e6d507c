/*
 * cli/jobspec.h - the job options shared by `zkeep allow` and `zkeep confine`.
 *
 * A job comes from zkeep.conf (--config FILE --job NAME: a replication job,
 * see jobconf.h) or from the command line (--grant DATASET=OP,... once per
 * dataset, see deleg_parse_need()). The rest shapes the worker: --program
 * (what it execs; default zfs), --ro PATH, --port N (ssh), --state-dir,
 * --uid-range FIRST-LAST, --zfs-version X.Y (instead of probing).
 */
#ifndef ZKEEP_CMD_JOBSPEC_H
#define ZKEEP_CMD_JOBSPEC_H

#include "confine/confine.h"
#include "confine/jobconf.h"
#include "zfs/zfs.h"

#include <getopt.h>

struct jobspec {
	struct confine_job job;
	struct jobconf conf;
	struct strvec store, props, programs, ro;
	struct strvec keep; /* the job's own --recvoptions o/x words (guard_keep) */
	struct deleg_need needs[DELEG_MAX_NEEDS];
	unsigned ports[SANDBOX_MAX_PORTS];
	const char *config, *job_name, *state_dir, *sanoid_dir;
	char *name_buf;
};

/* getopt_long options (long only), to be appended to a command's own. */
#define JOBSPEC_OPTIONS \
	{ "config", required_argument, NULL, 1001 }, \
	{ "job", required_argument, NULL, 1002 }, \
	{ "grant", required_argument, NULL, 1003 }, \
	{ "program", required_argument, NULL, 1004 }, \
	{ "ro", required_argument, NULL, 1005 }, \
	{ "port", required_argument, NULL, 1006 }, \
	{ "state-dir", required_argument, NULL, 1007 }, \
	{ "uid-range", required_argument, NULL, 1008 }, \
	{ "zfs-version", required_argument, NULL, 1009 }, \
	{ "configdir", required_argument, NULL, 1010 }

#define JOBSPEC_HELP \
	"Job:\n" \
	"  --config FILE --job NAME  a [job NAME] of zkeep.conf (default /etc/zkeep/zkeep.conf)\n" \
	"  --grant DATASET=OP,...    a dataset the job touches, with its operations:\n" \
	"                            snapshot destroy send send-raw hold bookmark receive\n" \
	"                            force abort raw-encrypted, flags recursive new,\n" \
	"                            prop:NAME per received property (repeat per dataset)\n" \
	"  --job NAME                with --grant: the job's name (default \"adhoc\")\n" \
	"  --job snapshots           sanoid's: snapshot,destroy on each dataset of sanoid.conf\n" \
	"  --configdir DIR           sanoid.conf's directory (default /etc/sanoid)\n" \
	"Worker:\n" \
	"  --program PROG            a program the worker runs (repeat; default zfs)\n" \
	"  --ro PATH                 a file or directory it may read (repeat)\n" \
	"  --port N                  a TCP port it may connect to (ssh; repeat)\n" \
	"  --state-dir DIR           default /var/lib/zkeep\n" \
	"  --uid-range FIRST-LAST    run uids (default 60700-60799)\n" \
	"  --zfs-version X.Y         compute grants for this ZFS version instead of probing\n"

void jobspec_init(struct jobspec *js);
void jobspec_release(struct jobspec *js);
/* Handle one option of JOBSPEC_OPTIONS: 0, or -EINVAL after logging why. */
int jobspec_option(struct jobspec *js, int ch, const char *arg);
/* After the options: load the config job or check the --grant set; fills js->job. */
int jobspec_finish(struct jobspec *js);
/*
 * The run-time facts of a local replication target, read from this host's
 * ZFS (reading needs no privilege) into f: whether it exists, and whether
 * it holds an interrupted full receive. `zkeep allow` (the units'
 * ExecStartPre=+) and the live worker ask through this one function.
 */
void repl_target_facts(struct zfs *z, const char *target, struct repl_facts *f);
/* Print the grants as `zfs allow` commands, with `who` in place of the uid. */
void jobspec_print_grants(const struct deleg_set *set, const char *who);

#endif
