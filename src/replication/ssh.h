/*
 * replication/ssh.h - running commands on another host through the OpenSSH client, and
 * the syncoid-style `[[user@]host:]dataset` endpoints.
 *
 * ssh_runner_new() returns a struct runner (runner.h) whose start() runs an
 * argv on the remote host: `ssh [options] -- HOST COMMAND`, where COMMAND is
 * the argv with every word quoted exactly once for the remote POSIX shell
 * (ssh_quote_argv()), so a dataset name never becomes shell syntax. The
 * runner keeps ONE multiplexed connection per host for its lifetime:
 * ssh_runner_connect() starts a master (ControlMaster=yes, ControlPath in a
 * private 0700 directory, ControlPersist=60) and every later command is a
 * session on it; runner_free() closes it (`ssh -O exit`) and removes the
 * directory. start() connects first if that has not been done.
 *
 * BatchMode=yes is always set (never a password prompt from cron), and the
 * options of syncoid map one to one: --sshkey -> -i, --sshport -> -p,
 * --sshcipher -> -c, --sshoption -> -o (repeatable), --sshconfig -> -F.
 *
 * Remote mode:
 *   SSH_REMOTE_SHELL  the remote account has a shell; argv is quoted and
 *                     run as is (syncoid compatibility: nothing but zfs
 *                     needed remotely). With `elevate`, "sudo" is put in
 *                     front of every remote command (syncoid does this
 *                     when the remote user is not root).
 *   SSH_REMOTE_SERVE  the key's forced command is `zkeep serve --stdio`
 *                     (serve_proto.h): start() runs a local relay,
 *                     `zkeep serve --relay` (zkeep_path), that speaks the
 *                     framed protocol over ssh and gives the caller plain
 *                     stdin/stdout/stderr and the remote exit status, so
 *                     zfs.h works unchanged over it.
 *
 * Errors: ssh exits 255 when it fails itself. ssh_describe_failure() turns
 * that and ssh's stderr into a message naming the host and the cause
 * (host unreachable, authentication refused, host key not trusted).
 */
#ifndef ZKEEP_SSH_H
#define ZKEEP_SSH_H

#include "replication/pump.h"
#include "zfs/runner.h"

/* ---- endpoints (pure) ---------------------------------------------------- */

struct endpoint {
	char *user;    /* NULL when not given */
	char *host;    /* NULL for a local dataset */
	char *dataset;
};
#define ENDPOINT_INIT { NULL, NULL, NULL }

/*
 * Parse syncoid's `[[user@]host:]dataset`, as syncoid 2.x does:
 *   - with an '@' before the first ':', "user@host:" is the remote part
 *     ("@host:" means no user);
 *   - else, when a ':' comes before the first '/', the part before the
 *     first '/' is compared with the local pool names: if a local pool has
 *     exactly that name the argument is a local dataset, else "host:" is
 *     the remote part;
 *   - else it is a local dataset.
 * local_pools (NULL-terminated, may be NULL = none) are the names of this
 * host's pools. User and host are checked (no leading '-', no whitespace
 * or shell metacharacters) so they can never be taken as ssh options.
 * 0 or -EINVAL with a message in err. endpoint_release() releases.
 */
int endpoint_parse(const char *arg, const char *const *local_pools, struct endpoint *out,
		   struct strbuf *err);
void endpoint_release(struct endpoint *e);
static inline bool endpoint_is_remote(const struct endpoint *e) { return e->host != NULL; }
/* Whether two remote endpoints name the same user at the same host: one ssh connection serves both. */
bool endpoint_same_connection(const struct endpoint *a, const struct endpoint *b);

/* ---- quoting (pure) ------------------------------------------------------ */

/*
 * Append word to sb single-quoted for a POSIX shell: 'it'\''s'. Every word
 * is quoted, even a harmless one, so there is one rule. A word containing a
 * newline (which ZFS forbids in names) or that is longer than 64 KiB is
 * refused with -EINVAL: nothing is appended then.
 */
int ssh_quote_word(struct strbuf *sb, const char *word);
/* Quote each word and join with spaces. -EINVAL (sb unchanged) on a bad word. */
int ssh_quote_argv(struct strbuf *sb, const char *const *argv);

/* ---- the runner ------------------------------------------------------------ */

enum ssh_remote_mode {
	SSH_REMOTE_SHELL = 0,
	SSH_REMOTE_SERVE,
};

struct ssh_opts {
	const char *user;            /* NULL: ssh's default / config */
	const char *host;            /* required */
	const char *port;            /* --sshport, digits only; NULL = default */
	const char *key;             /* --sshkey */
	const char *cipher;          /* --sshcipher */
	const char *config;          /* --sshconfig */
	const char *const *options;  /* --sshoption values (NULL-terminated, may be NULL) */
	const char *ssh_program;     /* NULL = "ssh" from PATH (tests use a fake) */
	const char *runtime_dir;     /* parent of the control directory; NULL (or
				      * too long for a socket path) = $XDG_RUNTIME_DIR
				      * if set and writable, else /tmp */
	enum ssh_remote_mode mode;
	bool elevate;                /* SSH_REMOTE_SHELL: prefix "sudo" */
	bool no_multiplex;           /* do not use a control master (tests) */
	const char *zkeep_path;      /* SSH_REMOTE_SERVE: the local zkeep binary;
				      * NULL = /proc/self/exe */
	int connected_fd;            /* > 2: a socket already connected to the host's
				      * ssh server (ssh_destination_connect(), in the
				      * supervisor); 0: ssh connects itself */
};

/*
 * With opts->connected_fd, the master connection runs over that socket, so the
 * process needs no network of its own (a confined worker in a network
 * namespace without any): the master is `ssh -o ProxyCommand=- -N ...` with
 * the socket as its stdin and stdout, which OpenSSH (6.5+) takes as the
 * connection itself; no shell and no proxy program run. -N: the master runs
 * no command, whose input and output would share the connection's
 * descriptors; the probe is then a session on it. One socket is one TCP
 * connection, and a run needs only one: every later command is a session on
 * the master, and a command started after the master died tries to connect
 * by itself and, without a network, fails. The runner takes the descriptor
 * over (also when it returns NULL) and closes it once the master holds it.
 * It needs multiplexing (-EINVAL with no_multiplex).
 *
 * Create a runner for opts->host (strings are copied). Validates the
 * options (port digits, host/user as in endpoint_parse) and creates the
 * private control directory; does not connect. NULL with a message in err.
 * r->label is "[user@]host".
 */
struct runner *ssh_runner_new(const struct ssh_opts *opts, struct strbuf *err);

/*
 * Open the master connection now (and check that the host answers: runs
 * `true` remotely, or a hello over serve). 0, or -EHOSTUNREACH, -EACCES
 * (authentication or host key), -ENOENT (no ssh program), -EIO, with a
 * message naming the host in err. Idempotent.
 */
int ssh_runner_connect(struct runner *r, struct strbuf *err);

/*
 * The full local argv that start() would run for remote argv `argv`
 * (for --dry-run and --debug output, and tests). 0 or -EINVAL.
 */
int ssh_runner_argv(struct runner *r, const char *const *argv, struct strvec *out);

/*
 * Start a remote pipeline `argv[0] | argv[1] | ...` (n >= 1), each word
 * quoted once, for SSH_REMOTE_SHELL only (e.g. `zfs send ... | zstd -c`
 * when the remote side has no zkeep). -ENOTSUP in serve mode.
 */
int ssh_runner_start_pipeline(struct runner *r, const char *const *const *argvs, size_t n,
			      int in, int out, int err, struct child *c);

/*
 * Start argv remotely with its stream compressed on the wire by codec:
 * with on_stdout the remote side compresses the command's stdout (a remote
 * `zfs send`: the caller's pump decompresses, pump_opts.decompress =
 * *codec), else it decompresses its stdin before the command reads it (a
 * remote `zfs receive`: pump_opts.compress = *codec). Shell mode: a remote
 * pipeline with the zstd/lz4 tool (pump_codec_argv()), which must be
 * installed there; serve mode: `zkeep serve` runs the codec in-process
 * ("codec-in="/"codec-out=", serve_proto.h). A NONE codec is runner_start().
 * Counts in r->spawned.
 */
int ssh_runner_start_coded(struct runner *r, const char *const *argv,
			   const struct pump_codec *codec, bool on_stdout, int in, int out,
			   int err, struct child *c);

/* ---- connecting for a confined client ------------------------------------------------- */

/*
 * Where ssh would connect for opts, as `ssh -G` (with the same options and
 * config) says: the user's ssh configuration decides, as for ssh itself.
 */
struct ssh_destination {
	char *hostname;            /* after the config's HostName and canonicalisation */
	unsigned port;
	int family;                /* AF_UNSPEC, AF_INET or AF_INET6 (AddressFamily) */
	unsigned connect_timeout;  /* seconds (ConnectTimeout); 0: the kernel's */
	char *proxy;               /* the ProxyCommand or ProxyJump in force, or NULL:
				    * then ssh does not connect by itself and a
				    * connected socket cannot stand in for it */
};
#define SSH_DESTINATION_INIT { .hostname = NULL, .proxy = NULL }
void ssh_destination_release(struct ssh_destination *d); /* _cleanup_release_(ssh_destination) */

/*
 * Parse the output of `ssh -G` (lowercase "key value" lines) into d: hostname
 * and port are required, the rest keeps its default when absent ("none" for
 * connecttimeout, proxycommand and proxyjump). Pure. 0, or -EINVAL with the
 * reason in err and d released.
 */
int ssh_destination_parse(const char *dump, struct ssh_destination *d, struct strbuf *err);

/*
 * Run `ssh [the options of opts] -G -- HOST` (nothing is connected) and parse
 * it. 0, or -errno with a message naming the host in err.
 */
int ssh_destination_resolve(const struct ssh_opts *opts, struct ssh_destination *d,
			    struct strbuf *err);

/*
 * Connect a TCP socket (close-on-exec) to d's host and port, trying each
 * address getaddrinfo() gives in turn, as ssh does. 0 with *fd set, or
 * -EHOSTUNREACH (name not resolved) or the last connect()'s -errno, with
 * ssh's wording in err ("connect to host H port P: ...").
 */
int ssh_destination_connect(const struct ssh_destination *d, int *fd, struct strbuf *err);

/*
 * Explain a failed remote command: with exit_code 255 (ssh's own failure)
 * classify ssh's stderr into "cannot reach HOST: ...", "authentication to
 * HOST refused: ... (check --sshkey and authorized_keys)", "host key of
 * HOST ...". Returns the matching -errno (-EHOSTUNREACH, -EACCES, -EIO)
 * and appends the message to msg; for other exit codes returns 0 and
 * appends nothing (the remote command itself failed: its stderr says why).
 */
int ssh_describe_failure(const char *label, int exit_code, const char *ssh_stderr,
			 struct strbuf *msg);

#endif
