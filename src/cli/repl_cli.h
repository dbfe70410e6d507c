/*
 * cli/repl_cli.h - the options `syncoid` and `zkeep replicate` share, parsed
 * into a struct repl_cli. The run is repl_run.h's (busy check, lock), which
 * calls repl_confined.h's (the confined worker), which calls
 * repl_execute.h's (endpoints, backends and the engine run of replicate.h).
 */
#ifndef ZKEEP_CLI_REPL_CLI_H
#define ZKEEP_CLI_REPL_CLI_H

#include "base/strbuf.h"
#include "base/strvec.h"
#include "cli/perl_getopt.h"
#include "replication/ssh.h"

struct repl_cli {
	const char *source_arg, *target_arg; /* [[user@]host:]dataset */
	bool syncoid;                 /* syncoid's defaults and wording */
	bool recursive, skip_parent, no_sync_snap, keep_sync_snap, create_bookmark, use_hold;
	bool no_stream, no_resume, no_rollback, rollback, force_delete, delete_target_snapshots;
	bool no_clone_handling, preserve_properties, preserve_recordsize, dry_run, json, dumpsnaps;
	bool no_privilege_elevation;
	bool pv_options_given, insecure_direct_given; /* accepted, ignored with a warning */
	bool serve;                   /* remote side is `zkeep serve --stdio` (forced command) */
	const char *relay_path;       /* --serve: the zkeep that relays frames to ssh, as an
				       * absolute path (the confined worker's copy); NULL =
				       * /proc/self/exe */
	struct strvec exclude_datasets, include_snaps, exclude_snaps, ssh_options;
	const char *identifier, *sendoptions, *recvoptions, *compress;
	const char *mbuffer_size, *source_bwlimit, *target_bwlimit, *jobs;
	const char *sshkey, *sshport, *sshcipher, *sshconfig;
	const char *ssh_runtime_dir;  /* where ssh's control socket goes (the confined
				       * worker's own directory); NULL = ssh.h's default */
	int ssh_connected_fds[2];     /* > 2: a socket the supervisor connected to the
				       * source's [0] or the target's [1] remote host, for
				       * the worker's ssh (ssh_opts' connected_fd; that
				       * side's ssh runner takes it); 0: none */
	int root_requests_fd;         /* > 2: the worker's end of its channel to root
				       * (--force-delete: "unmount DATASET" before the
				       * destroy, repl_unmount_request()); 0: none */
	bool root_receives;           /* the worker's zfs receives go to root on that
				       * channel (zfs/root_receive.h): its target existed */
	/*
	 * source_arg and target_arg parsed by repl_cli_endpoints(), once: whether
	 * a side is remote is theirs to say (endpoint_parse(), with this host's
	 * pools), never a ':' in the argument (a local `tank/b:c` is local).
	 */
	struct endpoint src, dst;
	int endpoints_r;              /* 0, or -EINVAL: endpoints_err says why */
	struct strbuf endpoints_err;
	struct perl_getopt_result parsed; /* syncoid's options: the strings above point here */
};

#define REPL_MAX_JOBS 8         /* --jobs */
#define REPL_MAX_SSH_SESSIONS 8 /* at once on one connection: under sshd's default
				 * MaxSessions (10), with room for a listing */
#define REPL_DEFAULT_JOBS_MAX 4 /* zkeep replicate without --jobs: one per CPU, up to this */

/* syncoid's GetOptions list (and zkeep's extras), for the tests. */
extern const struct perl_getopt syncoid_getopt;

void repl_cli_init(struct repl_cli *c);
void repl_cli_release(struct repl_cli *c);
/*
 * Parse argv into c: when c->syncoid exactly as syncoid's Getopt::Long
 * does (perl_getopt.h; options anywhere, POSIXLY_CORRECT honoured), else
 * zkeep replicate's getopt_long options before the operands. 0 to run, 1 when --help/--version was printed, -1 on a usage
 * error (reported).
 */
int repl_cli_parse(struct repl_cli *c, int argc, char **argv, const char *help);
/*
 * Parse source_arg and target_arg into c->src and c->dst (listing this
 * host's pools when an argument has a ':'). 0, or -EINVAL with the message
 * in c->endpoints_err, not reported: repl_execute() reports it in its turn.
 */
int repl_cli_endpoints(struct repl_cli *c);

#endif
