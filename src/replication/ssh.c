/* ssh.c - see ssh.h. */
#include "base/zkeep.h"
#include "replication/ssh.h"
#include "replication/serve_proto.h"

#include "base/parse.h"

#include <fcntl.h>
#include <netdb.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define QUOTE_WORD_MAX ((size_t)64 << 10)
#define CONTROL_PERSIST "60"

/* ---- endpoints -------------------------------------------------------------------- */

/* Characters allowed in a user or host name: never an option, never shell syntax. */
static bool name_ok(const char *s, size_t n)
{
	if (n == 0 || s[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '-' || c == '_'))
			return false;
	}
	return true;
}

bool endpoint_same_connection(const struct endpoint *a, const struct endpoint *b)
{
	return a->host && b->host && streq(a->host, b->host) && streq(a->user, b->user);
}

void endpoint_release(struct endpoint *e)
{
	free(e->user);
	free(e->host);
	free(e->dataset);
	*e = (struct endpoint)ENDPOINT_INIT;
}

int endpoint_parse(const char *arg, const char *const *local_pools, struct endpoint *out,
		   struct strbuf *err)
{
	*out = (struct endpoint)ENDPOINT_INIT;
	if (!arg || !*arg) {
		strbuf_addstr(err, "empty dataset argument");
		return -EINVAL;
	}
	const char *colon = strchr(arg, ':');
	const char *slash = strchr(arg, '/');
	const char *at = strchr(arg, '@');
	const char *user = NULL, *host = NULL, *rest = arg;
	size_t ulen = 0, hlen = 0;

	if (at && colon && at < colon && (!slash || colon < slash)) {
		/* [user]@host:dataset */
		user = arg;
		ulen = (size_t)(at - arg);
		host = at + 1;
		hlen = (size_t)(colon - host);
		rest = colon + 1;
		if (ulen == 0)
			user = NULL;
	} else if (colon && (!slash || colon < slash)) {
		/* host:dataset, unless a local pool is named like the first component */
		size_t plen = slash ? (size_t)(slash - arg) : strlen(arg);
		bool is_pool = false;
		for (const char *const *p = local_pools; p && *p; p++)
			if (strlen(*p) == plen && memcmp(*p, arg, plen) == 0)
				is_pool = true;
		if (!is_pool) {
			host = arg;
			hlen = (size_t)(colon - arg);
			rest = colon + 1;
		}
	}
	if (user && !name_ok(user, ulen)) {
		strbuf_addf(err, "'%s': invalid remote user name '%.*s' (letters, digits, '.', '_', '-')",
			    arg, (int)ulen, user);
		return -EINVAL;
	}
	if (host && !name_ok(host, hlen)) {
		strbuf_addf(err, "'%s': invalid host name '%.*s' (letters, digits, '.', '_', '-'; "
			    "not starting with '-')", arg, (int)hlen, host);
		return -EINVAL;
	}
	if (!*rest) {
		strbuf_addf(err, "'%s': no dataset after the host", arg);
		return -EINVAL;
	}
	out->user = user ? xstrndup(user, ulen) : NULL;
	out->host = host ? xstrndup(host, hlen) : NULL;
	out->dataset = xstrdup(rest);
	return 0;
}

/* ---- quoting ---------------------------------------------------------------------- */

int ssh_quote_word(struct strbuf *sb, const char *word)
{
	size_t n = strlen(word);
	if (n > QUOTE_WORD_MAX || memchr(word, '\n', n))
		return -EINVAL;
	size_t start = sb->len;
	int r = strbuf_addch(sb, '\'');
	for (const char *p = word; !r && *p; p++)
		r = *p == '\'' ? strbuf_addstr(sb, "'\\''") : strbuf_addch(sb, *p);
	if (!r)
		r = strbuf_addch(sb, '\'');
	if (r)
		strbuf_setlen(sb, start);
	return r;
}

int ssh_quote_argv(struct strbuf *sb, const char *const *argv)
{
	size_t start = sb->len;
	for (size_t i = 0; argv[i]; i++) {
		int r = 0;
		if (i)
			r = strbuf_addch(sb, ' ');
		if (!r)
			r = ssh_quote_word(sb, argv[i]);
		if (r) {
			strbuf_setlen(sb, start);
			return r;
		}
	}
	return 0;
}

/* ---- failures ----------------------------------------------------------------------- */

static const char *first_line(const char *s, struct strbuf *tmp)
{
	/* the most telling line of ssh's stderr: skip warnings about known hosts */
	const char *p = s;
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		if (n && !(n >= 8 && memcmp(p, "Warning:", 8) == 0)) {
			strbuf_add(tmp, p, n);
			return tmp->buf;
		}
		if (!nl)
			break;
		p = nl + 1;
	}
	return "no message";
}

int ssh_describe_failure(const char *label, int exit_code, const char *ssh_stderr,
			 struct strbuf *msg)
{
	static const char *const unreachable[] = {
		"Could not resolve hostname", "Connection refused", "Connection timed out",
		"No route to host", "Network is unreachable", "Connection closed by",
		"Connection reset", "kex_exchange_identification", "Name or service not known",
		"Operation timed out",
	};
	static const char *const hostkey[] = {
		"Host key verification failed", "REMOTE HOST IDENTIFICATION HAS CHANGED",
		"No matching host key", "host key for",
	};
	if (exit_code != 255)
		return 0;
	const char *e = ssh_stderr ? ssh_stderr : "";
	_cleanup_strbuf_ struct strbuf line = STRBUF_INIT;
	const char *why = first_line(e, &line);
	for (size_t i = 0; i < ARRAY_SIZE(hostkey); i++)
		if (strstr(e, hostkey[i])) {
			strbuf_addf(msg, "the host key of %s is not trusted (%s): check it and add it to "
				    "known_hosts (or pass -o UserKnownHostsFile=... with --sshoption)",
				    label, why);
			return -EACCES;
		}
	if (strstr(e, "Permission denied") || strstr(e, "Too many authentication failures")) {
		strbuf_addf(msg, "authentication to %s refused (%s): check --sshkey, the user, and "
			    "the remote authorized_keys (zkeep runs ssh in BatchMode: no password "
			    "prompts)", label, why);
		return -EACCES;
	}
	for (size_t i = 0; i < ARRAY_SIZE(unreachable); i++)
		if (strstr(e, unreachable[i])) {
			strbuf_addf(msg, "cannot reach %s (%s): check the host name, --sshport and "
				    "the network", label, why);
			return -EHOSTUNREACH;
		}
	strbuf_addf(msg, "ssh to %s failed (exit status 255: %s)", label, why);
	return -EIO;
}

/* ---- the runner ---------------------------------------------------------------------- */

struct ssh_runner {
	struct runner base;
	enum ssh_remote_mode mode;
	bool elevate, multiplex, connected, connect_failed;
	char *host;         /* destination given to ssh */
	char *zkeep_path;
	struct strvec opts; /* ssh program + options common to every call */
	char *dir, *ctl;    /* private control directory and socket */
	int fd;             /* the connected socket the master is to use, or -1 */
};

static struct ssh_runner *to_ssh(struct runner *r)
{
	return (struct ssh_runner *)r;
}

/* The ssh argv up to and including the destination, for a normal session. */
static void session_argv(struct ssh_runner *s, struct strvec *argv, bool master)
{
	strvec_pushv(argv, (const char *const *)s->opts.v);
	if (s->multiplex) {
		strvec_pushf(argv, "-oControlPath=%s", s->ctl);
		if (master) {
			strvec_push(argv, "-oControlMaster=yes");
			strvec_push(argv, "-oControlPersist=" CONTROL_PERSIST);
			/* the connection is stdin and stdout; no command of its own (ssh.h) */
			if (s->fd >= 0) {
				strvec_push(argv, "-oProxyCommand=-");
				strvec_push(argv, "-N");
			}
		} else {
			strvec_push(argv, "-oControlMaster=no");
		}
	}
	strvec_push(argv, "--");
	strvec_push(argv, s->host);
}

/* The remote command string for argv (shell mode), or the serve command. */
static int remote_command(struct ssh_runner *s, const char *const *const *argvs, size_t n,
			  struct strbuf *cmd)
{
	if (s->mode == SSH_REMOTE_SERVE) {
		strbuf_addstr(cmd, "zkeep serve --stdio");
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		if (i)
			strbuf_addstr(cmd, " | ");
		if (s->elevate)
			strbuf_addstr(cmd, "sudo ");
		int r = ssh_quote_argv(cmd, argvs[i]);
		if (r)
			return r;
	}
	return 0;
}

static int build_argv(struct ssh_runner *s, const char *const *const *argvs, size_t n,
		      struct strvec *out)
{
	_cleanup_strbuf_ struct strbuf cmd = STRBUF_INIT;
	int r = remote_command(s, argvs, n, &cmd);
	if (r)
		return r;
	if (s->mode == SSH_REMOTE_SERVE) {
		/* zkeep serve --relay N SSH-ARGV(N words) REQUEST-ARGV */
		_cleanup_strvec_ struct strvec ssh = STRVEC_INIT;
		session_argv(s, &ssh, false);
		strvec_push(&ssh, cmd.buf);
		strvec_push(out, s->zkeep_path);
		strvec_push(out, "serve");
		strvec_push(out, "--relay");
		strvec_pushf(out, "%zu", ssh.n);
		strvec_pushv(out, (const char *const *)ssh.v);
		strvec_pushv(out, argvs[0]);
		return 0;
	}
	session_argv(s, out, false);
	strvec_push(out, cmd.buf);
	return 0;
}

int ssh_runner_argv(struct runner *r, const char *const *argv, struct strvec *out)
{
	const char *const *one[] = { argv };
	return build_argv(to_ssh(r), one, 1, out);
}

/*
 * Run one ssh to completion with its stderr in an anonymous file (a master
 * stays in the background with it: a pipe would not see EOF until the master
 * exits). 0 with *code set, or -errno with a message in err.
 */
static int run_ssh(struct ssh_runner *s, const struct strvec *argv, int inout, int *code,
		   struct strbuf *stderr_text, struct strbuf *err)
{
	_cleanup_fd_ int errfd = memfd_create("ssh-stderr", MFD_CLOEXEC);
	if (errfd < 0) {
		int e = errno;
		strbuf_addf(err, "memfd_create: %s", strerror(e));
		return -e;
	}
	struct spawn_req req = { .argv = (const char *const *)argv->v, .in = inout,
				 .out = inout, .err = errfd };
	struct child c = CHILD_INIT;
	int rc = spawn_start(&req, &c);
	if (rc < 0) {
		strbuf_addf(err, "cannot run %s to connect to %s: %s", s->opts.v[0], s->base.label,
			    strerror(-rc));
		return rc;
	}
	s->base.spawned++;
	int ws = 0;
	spawn_wait(&c, &ws);
	*code = spawn_exit_code(ws);
	lseek(errfd, 0, SEEK_SET);
	(void)strbuf_read_fd(stderr_text, errfd);
	return 0;
}

int ssh_runner_connect(struct runner *r, struct strbuf *err)
{
	struct ssh_runner *s = to_ssh(r);
	if (s->connected)
		return 0;
	/* a probe: `true` in a shell; for a forced `zkeep serve`, EOF before a request */
	const char *probe = s->mode == SSH_REMOTE_SERVE ? "zkeep serve --stdio" : "true";
	_cleanup_strvec_ struct strvec argv = STRVEC_INIT;
	session_argv(s, &argv, true);
	if (s->fd < 0)
		strvec_push(&argv, probe);
	_cleanup_strbuf_ struct strbuf msg = STRBUF_INIT;
	strbuf_init(&msg, 64 << 10);
	int code = 0;
	int rc = run_ssh(s, &argv, s->fd >= 0 ? s->fd : SPAWN_NULL, &code, &msg, err);
	if (rc == 0 && code == 0 && s->fd >= 0) {
		/* The master holds the connection now; the probe is a session on it. */
		close(s->fd);
		s->fd = -1;
		strvec_release(&argv);
		session_argv(s, &argv, false);
		strvec_push(&argv, probe);
		strbuf_reset(&msg);
		rc = run_ssh(s, &argv, SPAWN_NULL, &code, &msg, err);
	}
	if (rc < 0) {
		s->connect_failed = true;
		return rc;
	}
	if (code == 0) {
		s->connected = true;
		return 0;
	}
	s->connect_failed = true;
	int e = ssh_describe_failure(r->label, code, msg.buf, err);
	if (e)
		return e;
	strbuf_rtrim(&msg);
	strbuf_addf(err, "connecting to %s: the probe command failed (exit status %d): %s",
		    r->label, code, msg.len ? msg.buf : "no message");
	return -EIO;
}

static int start_argvs(struct runner *r, const char *const *const *argvs, size_t n, int in,
		       int out, int errfd, struct child *c)
{
	struct ssh_runner *s = to_ssh(r);
	if (s->multiplex && !s->connected && !s->connect_failed) {
		/* failures show again in the command's own stderr (exit 255) */
		_cleanup_strbuf_ struct strbuf ignored = STRBUF_INIT;
		(void)ssh_runner_connect(r, &ignored);
	}
	_cleanup_strvec_ struct strvec argv = STRVEC_INIT;
	int rc = build_argv(s, argvs, n, &argv);
	if (rc)
		return rc;
	struct spawn_req req = { .argv = (const char *const *)argv.v, .in = in, .out = out, .err = errfd };
	return spawn_start(&req, c); /* runner_start() counts it */
}

static int ssh_start(struct runner *r, const char *const *argv, int in, int out, int err,
		     struct child *c)
{
	const char *const *one[] = { argv };
	return start_argvs(r, one, 1, in, out, err, c);
}

int ssh_runner_start_pipeline(struct runner *r, const char *const *const *argvs, size_t n,
			      int in, int out, int err, struct child *c)
{
	if (to_ssh(r)->mode != SSH_REMOTE_SHELL)
		return -ENOTSUP;
	if (n == 0)
		return -EINVAL;
	int rc = start_argvs(r, argvs, n, in, out, err, c);
	if (rc == 0)
		r->spawned++;
	return rc;
}

int ssh_runner_start_coded(struct runner *r, const char *const *argv,
			   const struct pump_codec *codec, bool on_stdout, int in, int out,
			   int err, struct child *c)
{
	struct ssh_runner *s = to_ssh(r);
	int rc;
	if (!codec || codec->kind == PUMP_CODEC_NONE) {
		rc = runner_start(r, argv, in, out, err, c);
		return rc;
	}
	if (s->mode == SSH_REMOTE_SERVE) {
		_cleanup_strvec_ struct strvec v = STRVEC_INIT;
		_cleanup_strbuf_ struct strbuf spec = STRBUF_INIT;
		serve_codec_spec(codec, &spec);
		strvec_pushf(&v, "codec-%s=%s", on_stdout ? "out" : "in", spec.buf);
		strvec_pushv(&v, argv);
		return runner_start(r, (const char *const *)v.v, in, out, err, c);
	}
	_cleanup_strvec_ struct strvec tool = STRVEC_INIT;
	pump_codec_argv(codec, !on_stdout, &tool);
	const char *const *pl[2];
	pl[on_stdout ? 0 : 1] = argv;
	pl[on_stdout ? 1 : 0] = (const char *const *)tool.v;
	return ssh_runner_start_pipeline(r, pl, 2, in, out, err, c);
}

static void ssh_free(struct runner *r)
{
	struct ssh_runner *s = to_ssh(r);
	if (s->connected) {
		_cleanup_strvec_ struct strvec argv = STRVEC_INIT;
		strvec_pushv(&argv, (const char *const *)s->opts.v);
		strvec_pushf(&argv, "-oControlPath=%s", s->ctl);
		strvec_push(&argv, "-Oexit");
		strvec_push(&argv, "--");
		strvec_push(&argv, s->host);
		struct spawn_req req = { .argv = (const char *const *)argv.v, .in = SPAWN_NULL,
					 .out = SPAWN_NULL, .err = SPAWN_NULL };
		int code;
		(void)spawn_run(&req, NULL, 0, NULL, NULL, &code);
	}
	if (s->ctl)
		unlink(s->ctl); /* normally gone with the master */
	if (s->dir)
		rmdir(s->dir);
	if (s->fd >= 0)
		close(s->fd);
	free(s->ctl);
	free(s->dir);
	free(s->host);
	free(s->zkeep_path);
	strvec_release(&s->opts);
	/* runner_free() frees the label and the runner itself */
}

static const struct runner_ops ssh_ops = {
	.start = ssh_start,
	.free = ssh_free,
};

static bool digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/* An option value must not be able to act as another option. */
static bool value_ok(const char *v)
{
	return v && *v && v[0] != '-' && !strchr(v, '\n');
}

/*
 * The longest parent a control socket fits under: sun_path holds 107 bytes,
 * and a master binds "PARENT/zkeep-ssh-XXXXXX/ctl" plus a 17-byte temporary
 * suffix before renaming it.
 */
#define CONTROL_PARENT_MAX (107 - sizeof("/zkeep-ssh-XXXXXX/ctl") + 1 - 17)

static char *make_control_dir(const char *parent, struct strbuf *err)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	if (parent && strlen(parent) > CONTROL_PARENT_MAX)
		parent = NULL;
	if (!parent)
		parent = xdg && *xdg && access(xdg, W_OK) == 0 ? xdg : "/tmp";
	char *dir = xasprintf("%s/zkeep-ssh-XXXXXX", parent);
	if (!mkdtemp(dir)) { /* mkdtemp makes it 0700 */
		strbuf_addf(err, "cannot create a private directory for the ssh control socket in "
			    "%s: %s", parent, strerror(errno));
		free(dir);
		return NULL;
	}
	return dir;
}

/* The options of o that ssh can never take for something else. 0 or -EINVAL. */
static int opts_check(const struct ssh_opts *o, struct strbuf *err)
{
	if (!o->host || !name_ok(o->host, strlen(o->host))) {
		strbuf_addf(err, "invalid host name '%s'", o->host ? o->host : "");
		return -EINVAL;
	}
	if (o->user && !name_ok(o->user, strlen(o->user))) {
		strbuf_addf(err, "invalid remote user name '%s'", o->user);
		return -EINVAL;
	}
	if (o->port && (!digits(o->port) || strlen(o->port) > 5)) {
		strbuf_addf(err, "invalid ssh port '%s': a number is expected", o->port);
		return -EINVAL;
	}
	const struct {
		const char *what, *v;
	} vals[] = { { "ssh key", o->key }, { "ssh cipher", o->cipher }, { "ssh config", o->config } };
	for (size_t i = 0; i < ARRAY_SIZE(vals); i++)
		if (vals[i].v && !value_ok(vals[i].v)) {
			strbuf_addf(err, "invalid %s '%s'", vals[i].what, vals[i].v);
			return -EINVAL;
		}
	for (const char *const *p = o->options; p && *p; p++)
		if (!value_ok(*p)) {
			strbuf_addf(err, "invalid ssh option '%s' (expected KEY=VALUE as for ssh -o)", *p);
			return -EINVAL;
		}
	return 0;
}

/* The ssh program and the options of o, common to every call (and to `ssh -G`). */
static void opts_argv(const struct ssh_opts *o, struct strvec *out)
{
	strvec_push(out, o->ssh_program ? o->ssh_program : "ssh");
	if (o->config) {
		strvec_push(out, "-F");
		strvec_push(out, o->config);
	}
	strvec_push(out, "-oBatchMode=yes");
	if (o->user) {
		strvec_push(out, "-l");
		strvec_push(out, o->user);
	}
	if (o->port) {
		strvec_push(out, "-p");
		strvec_push(out, o->port);
	}
	if (o->key) {
		strvec_push(out, "-i");
		strvec_push(out, o->key);
	}
	if (o->cipher) {
		strvec_push(out, "-c");
		strvec_push(out, o->cipher);
	}
	for (const char *const *p = o->options; p && *p; p++) {
		strvec_push(out, "-o");
		strvec_push(out, *p);
	}
}

struct runner *ssh_runner_new(const struct ssh_opts *o, struct strbuf *err)
{
	_cleanup_fd_ int fd = o->connected_fd > STDERR_FILENO ? o->connected_fd : -1;
	if (opts_check(o, err) < 0)
		return NULL;
	if (fd >= 0 && o->no_multiplex) {
		strbuf_addstr(err, "a connected socket needs ssh multiplexing");
		return NULL;
	}
	struct ssh_runner *s = xcalloc(1, sizeof(*s));
	s->base.ops = &ssh_ops;
	s->base.label = o->user ? xasprintf("%s@%s", o->user, o->host) : xstrdup(o->host);
	s->mode = o->mode;
	s->elevate = o->elevate;
	s->multiplex = !o->no_multiplex;
	s->fd = steal_fd(&fd);
	s->host = xstrdup(o->host);
	s->zkeep_path = xstrdup(o->zkeep_path ? o->zkeep_path : "/proc/self/exe");
	strvec_init(&s->opts);
	opts_argv(o, &s->opts);
	if (s->multiplex) {
		s->dir = make_control_dir(o->runtime_dir, err);
		if (!s->dir) {
			runner_free(&s->base);
			return NULL;
		}
		s->ctl = xasprintf("%s/ctl", s->dir);
	}
	return &s->base;
}

/* ---- connecting for a confined client ----------------------------------------------- */

void ssh_destination_release(struct ssh_destination *d)
{
	free(d->hostname);
	free(d->proxy);
	*d = (struct ssh_destination)SSH_DESTINATION_INIT;
}

#define SSH_G_MAX ((size_t)1 << 20) /* ssh -G prints a few KiB */

/* On error d is left released (SSH_DESTINATION_INIT). */
int ssh_destination_parse(const char *dump, struct ssh_destination *d, struct strbuf *err)
{
	ssh_destination_release(d);
	bool have_port = false;
	for (const char *p = dump; *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		_cleanup_free_ char *line = xstrndup(p, n);
		p += n + (nl != NULL);
		char *v = strchr(line, ' ');
		if (!v)
			continue;
		*v++ = '\0';
		bool none = streq(v, "none");
		if (streq(line, "hostname") && *v) {
			free(d->hostname);
			d->hostname = xstrdup(v);
		} else if (streq(line, "port")) {
			if (parse_uint_range(v, 1, 65535, &d->port) < 0) {
				strbuf_addf(err, "ssh -G gave the port '%s'", v);
				ssh_destination_release(d);
				return -EINVAL;
			}
			have_port = true;
		} else if (streq(line, "addressfamily")) {
			d->family = streq(v, "inet") ? AF_INET : streq(v, "inet6") ? AF_INET6 : AF_UNSPEC;
		} else if (streq(line, "connecttimeout")) {
			d->connect_timeout = 0;
			if (!none && parse_uint_range(v, 0, 86400, &d->connect_timeout) < 0) {
				strbuf_addf(err, "ssh -G gave the connect timeout '%s'", v);
				ssh_destination_release(d);
				return -EINVAL;
			}
		} else if ((streq(line, "proxycommand") || streq(line, "proxyjump")) && !none &&
			   !d->proxy) {
			d->proxy = xasprintf("%s %s", line, v);
		}
	}
	if (!d->hostname || !have_port) {
		strbuf_addstr(err, "ssh -G printed no hostname and port");
		ssh_destination_release(d);
		return -EINVAL;
	}
	return 0;
}

int ssh_destination_resolve(const struct ssh_opts *o, struct ssh_destination *d,
			    struct strbuf *err)
{
	int r = opts_check(o, err);
	if (r < 0)
		return r;
	_cleanup_strvec_ struct strvec argv = STRVEC_INIT;
	opts_argv(o, &argv);
	strvec_push(&argv, "-G");
	strvec_push(&argv, "--");
	strvec_push(&argv, o->host);
	_cleanup_strbuf_ struct strbuf out = STRBUF_INIT, errtext = STRBUF_INIT;
	strbuf_init(&out, SSH_G_MAX);
	strbuf_init(&errtext, 64 << 10);
	struct spawn_req req = { .argv = (const char *const *)argv.v, .in = SPAWN_NULL,
				 .out = SPAWN_PIPE, .err = SPAWN_PIPE };
	int code = -1;
	r = spawn_run(&req, NULL, 0, &out, &errtext, &code);
	if (r < 0) {
		strbuf_addf(err, "cannot run %s -G for %s: %s", argv.v[0], o->host, strerror(-r));
		return r;
	}
	if (code != 0) {
		strbuf_rtrim(&errtext);
		strbuf_addf(err, "%s -G %s failed (exit status %d): %s", argv.v[0], o->host, code,
			    errtext.len ? errtext.buf : "no message");
		return -EINVAL;
	}
	r = ssh_destination_parse(out.buf, d, err);
	if (r < 0)
		strbuf_addf(err, " (for %s)", o->host);
	return r;
}

int ssh_destination_connect(const struct ssh_destination *d, int *fd, struct strbuf *err)
{
	char port[8];
	snprintf(port, sizeof(port), "%u", d->port);
	struct addrinfo hints = { .ai_family = d->family, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_ADDRCONFIG };
	struct addrinfo *ai = NULL;
	int g = getaddrinfo(d->hostname, port, &hints, &ai);
	if (g != 0) {
		strbuf_addf(err, "ssh: Could not resolve hostname %s: %s", d->hostname,
			    gai_strerror(g));
		return -EHOSTUNREACH;
	}
	int e = EHOSTUNREACH;
	for (struct addrinfo *a = ai; a; a = a->ai_next) {
		_cleanup_fd_ int s = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC,
					    a->ai_protocol);
		if (s < 0) {
			e = errno;
			continue;
		}
		/* Linux bounds a blocking connect() by the send timeout. */
		struct timeval tv = { .tv_sec = (time_t)d->connect_timeout };
		if (d->connect_timeout)
			(void)setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		int c;
		while ((c = connect(s, a->ai_addr, a->ai_addrlen)) < 0 && errno == EINTR)
			;
		if (c == 0) {
			tv.tv_sec = 0;
			if (d->connect_timeout)
				(void)setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
			freeaddrinfo(ai);
			*fd = steal_fd(&s);
			return 0;
		}
		e = errno == EINPROGRESS ? ETIMEDOUT : errno;
	}
	freeaddrinfo(ai);
	strbuf_addf(err, "ssh: connect to host %s port %s: %s", d->hostname, port,
		    e == ETIMEDOUT ? "Connection timed out" : strerror(e));
	return -e;
}
