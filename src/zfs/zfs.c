/*
 * zfs.c - the I/O half of zfs.h: run zfs/zpool through the runner and turn
 * their exit status and stderr into an errno and a message.
 */
#include "zfs/zfs.h"
#include "base/mountinfo.h"
#include "base/safe_path.h"
#include "base/parse.h"

#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <sys/mman.h>

/* Longest argument we build for a batched destroy ("fs@a,b,c"). */
#define DESTROY_BATCH_BYTES 65536

void zfs_init(struct zfs *z, struct runner *run)
{
	z->run = run;
	strbuf_init(&z->err, 1 << 20);
	z->dry_run = false;
	z->no_holds_p = false;
	strvec_init(&z->planned);
}

void zfs_release(struct zfs *z)
{
	strbuf_release(&z->err);
	strvec_release(&z->planned);
}

/* "zfs snapshot pool/a@x" - the command for messages: program, verb, last argument. */
static void describe_argv(struct strbuf *sb, const char *const *argv)
{
	size_t n = 0;
	while (argv[n])
		n++;
	strbuf_addf(sb, "%s %s", argv[0], n > 1 ? argv[1] : "");
	if (n > 2)
		strbuf_addf(sb, " '%s'", argv[n - 1]);
}

static void argv_join(struct strbuf *sb, const char *const *argv)
{
	for (size_t i = 0; argv[i]; i++) {
		if (i)
			strbuf_addch(sb, ' ');
		/* Quote words that need it, so a dry-run plan reads unambiguously. */
		if (argv[i][0] && !argv[i][strcspn(argv[i], " \t'\"\\$`;&|<>(){}*?!#~")])
			strbuf_addstr(sb, argv[i]);
		else {
			strbuf_addch(sb, '\'');
			for (const char *c = argv[i]; *c; c++)
				if (*c == '\'')
					strbuf_addstr(sb, "'\\''");
				else
					strbuf_addch(sb, *c);
			strbuf_addch(sb, '\'');
		}
	}
}

/* Record the error of a failed command in z->err; return its errno. */
static int command_failed(struct zfs *z, const char *const *argv, int code, const char *stderr_text)
{
	strbuf_reset(&z->err);
	describe_argv(&z->err, argv);
	struct strbuf msg = STRBUF_INIT;
	strbuf_addstr(&msg, stderr_text ? stderr_text : "");
	strbuf_rtrim(&msg);
	if (msg.len)
		strbuf_addf(&z->err, " failed: %s", msg.buf);
	else
		strbuf_addf(&z->err, " failed with exit status %d", code);
	int r = zfs_errno_from_message(msg.buf);
	strbuf_release(&msg);
	return r;
}

static int spawn_failed(struct zfs *z, const char *const *argv, int r)
{
	strbuf_reset(&z->err);
	if (r == -ENOENT)
		strbuf_addf(&z->err, "cannot run '%s' on %s: not installed or not in PATH", argv[0],
			    z->run->label);
	else
		strbuf_addf(&z->err, "cannot run '%s' on %s: %s", argv[0], z->run->label, strerror(-r));
	return -ENOEXEC;
}

/*
 * Run argv, capturing stdout into out (may be NULL). 0 on exit status 0;
 * otherwise an errno with the message in z->err.
 */
static int run_capture(struct zfs *z, const char *const *argv, struct strbuf *out)
{
	struct strbuf err = STRBUF_INIT;
	int code = 0;
	strbuf_reset(&z->err);
	strbuf_init(&err, 1 << 20);
	int r = runner_run(z->run, argv, NULL, 0, out, &err, &code);
	if (r == -E2BIG) {
		strbuf_addf(&z->err, "output of '%s %s' is too large", argv[0], argv[1]);
	} else if (r < 0) {
		r = spawn_failed(z, argv, r);
	} else if (code != 0) {
		r = command_failed(z, argv, code, err.buf);
	}
	strbuf_release(&err);
	return r;
}

/* A command that changes something: honours dry_run. */
static int run_change(struct zfs *z, const char *const *argv)
{
	if (z->dry_run) {
		struct strbuf sb = STRBUF_INIT;
		argv_join(&sb, argv);
		strvec_push_nodup(&z->planned, strbuf_detach(&sb));
		return 0;
	}
	return run_capture(z, argv, NULL);
}


int zfs_kmod_version(unsigned *major, unsigned *minor)
{
	char buf[64] = "";
	_cleanup_fd_ int fd = open("/sys/module/zfs/version", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return n < 0 ? -errno : -EIO;
	buf[n] = '\0';
	/* the same parse as `zfs version`'s zfs-kmod- line */
	_cleanup_free_ char *text = xasprintf("zfs-%s\nzfs-kmod-%s", buf, buf);
	struct zfs_version v;
	if (zfs_parse_version(text, &v) < 0 || !v.kmod_major)
		return -EIO;
	*major = v.kmod_major;
	*minor = v.kmod_minor;
	return 0;
}

int zfs_get_version(struct zfs *z, struct zfs_version *v)
{
	struct strbuf out = STRBUF_INIT;
	int r = run_capture(z, ARGV("zfs", "version"), &out);
	if (r == 0 && zfs_parse_version(out.buf, v) < 0) {
		strbuf_addf(&z->err, "cannot understand 'zfs version' output: %s", out.buf);
		r = -EINVAL;
	}
	strbuf_release(&out);
	return r;
}

typedef int list_parser(const char *buf, size_t len, struct zfs_tree *t, struct strbuf *err);

/*
 * Run a `zfs list` argv and parse its output into t. With several names, zfs lists what
 * exists and fails for the rest: -ENOENT then, with what exists in t.
 */
static int run_list(struct zfs *z, const struct strvec *argv, list_parser *parse,
		    struct zfs_tree *t)
{
	_cleanup_strbuf_ struct strbuf outb = STRBUF_INIT, err = STRBUF_INIT;
	const char *const *av = (const char *const *)argv->v;
	int code = 0;

	strbuf_reset(&z->err);
	strbuf_init(&err, 1 << 20);
	int r = runner_run(z->run, av, NULL, 0, &outb, &err, &code);
	if (r == -E2BIG)
		strbuf_addstr(&z->err, "zfs list output is too large");
	else if (r < 0)
		r = spawn_failed(z, av, r);
	else
		r = parse(outb.buf, outb.len, t, &z->err);
	if (r == 0 && code != 0)
		r = command_failed(z, av, code, err.buf);
	return r;
}

int zfs_list_tree(struct zfs *z, const char *const *roots, unsigned flags,
		  const char *const *props, struct zfs_tree *out)
{
	_cleanup_strvec_ struct strvec argv = STRVEC_INIT;
	_cleanup_strbuf_ struct strbuf cols = STRBUF_INIT, types = STRBUF_INIT;

	*out = (struct zfs_tree)ZFS_TREE_INIT;
	strvec_pushv(&out->props, props);
	strbuf_addstr(&cols, "name,type,guid,createtxg,creation");
	for (size_t i = 0; i < out->props.n; i++)
		strbuf_addf(&cols, ",%s", out->props.v[i]);
	strbuf_addstr(&types, "filesystem,volume");
	if (flags & ZFS_LIST_SNAPSHOTS)
		strbuf_addstr(&types, ",snapshot");
	if (flags & ZFS_LIST_BOOKMARKS)
		strbuf_addstr(&types, ",bookmark");
	strvec_pushv(&argv, ARGV("zfs", "list", "-Hp", "-o", cols.buf, "-t", types.buf));
	if (flags & ZFS_LIST_RECURSIVE)
		strvec_push(&argv, "-r");
	else if (flags & (ZFS_LIST_SNAPSHOTS | ZFS_LIST_BOOKMARKS))
		strvec_pushv(&argv, ARGV("-d", "1")); /* the dataset and its own snapshots */
	strvec_pushv(&argv, roots);
	int r = run_list(z, &argv, zfs_parse_list, out);
	/* only "does not exist" is partial; anything else is a failure */
	if (r < 0 && r != -ENOENT)
		zfs_tree_release(out);
	return r;
}

int zfs_list_snapshot_ids(struct zfs *z, const char *const *datasets, struct zfs_tree *rows)
{
	_cleanup_strvec_ struct strvec argv = STRVEC_INIT;
	strvec_pushv(&argv, ARGV("zfs", "list", "-Hp", "-o", "name,guid,createtxg", "-t",
				 "snapshot", "-d", "1"));
	strvec_pushv(&argv, datasets);
	return run_list(z, &argv, zfs_parse_snapshot_ids, rows);
}

int zfs_get_props(struct zfs *z, const char *const *datasets, bool recursive,
		  const char *const *props, unsigned sources, struct zfs_props *out)
{
	struct strvec argv = STRVEC_INIT;
	struct strbuf outb = STRBUF_INIT;
	*out = (struct zfs_props){ 0 };
	strvec_pushv(&argv, ARGV("zfs", "get", "-Hp", "-o", "name,property,value,source"));
	if (recursive)
		strvec_push(&argv, "-r");
	if (sources) {
		struct strvec s = STRVEC_INIT;
		static const struct { unsigned bit; const char *word; } w[] = {
			{ ZFS_SRC_LOCAL, "local" }, { ZFS_SRC_DEFAULT, "default" },
			{ ZFS_SRC_INHERITED, "inherited" }, { ZFS_SRC_RECEIVED, "received" },
			{ ZFS_SRC_TEMPORARY, "temporary" }, { ZFS_SRC_NONE, "none" },
		};
		for (size_t i = 0; i < ARRAY_SIZE(w); i++)
			if (sources & w[i].bit)
				strvec_push(&s, w[i].word);
		strvec_push(&argv, "-s");
		strvec_push_nodup(&argv, strvec_join(&s, ","));
		strvec_release(&s);
	}
	if (props && *props) {
		struct strvec p = STRVEC_INIT;
		strvec_pushv(&p, props);
		strvec_push_nodup(&argv, strvec_join(&p, ","));
		strvec_release(&p);
	} else {
		strvec_push(&argv, "all");
	}
	strvec_pushv(&argv, datasets);
	int r = run_capture(z, (const char *const *)argv.v, &outb);
	if (r == 0) {
		r = zfs_parse_get(outb.buf, outb.len, out, &z->err);
		if (r < 0)
			zfs_props_release(out);
	}
	strvec_release(&argv);
	strbuf_release(&outb);
	return r;
}

int zfs_get_text(struct zfs *z, const char *const *datasets, const char *columns,
		 const char *const *props, struct strbuf *out)
{
	struct strvec argv = STRVEC_INIT, p = STRVEC_INIT;
	strvec_pushv(&argv, ARGV("zfs", "get", "-Hpr", "-t", "filesystem,volume", "-o", columns));
	strvec_pushv(&p, props);
	strvec_push_nodup(&argv, strvec_join(&p, ","));
	strvec_pushv(&argv, datasets);
	int r = run_capture(z, (const char *const *)argv.v, out);
	strvec_release(&argv);
	strvec_release(&p);
	return r;
}

int zfs_get_prop(struct zfs *z, const char *dataset, const char *prop, char **value)
{
	struct strbuf outb = STRBUF_INIT;
	int r = run_capture(z, ARGV("zfs", "get", "-Hp", "-o", "value", prop, dataset), &outb);
	if (r == 0) {
		/* Values may end in spaces; only the newline is zfs's. */
		if (outb.len && outb.buf[outb.len - 1] == '\n')
			strbuf_setlen(&outb, outb.len - 1);
		*value = strbuf_detach(&outb);
	}
	strbuf_release(&outb);
	return r;
}

int zfs_set_props(struct zfs *z, const char *dataset, const char *const *assignments)
{
	struct strvec argv = STRVEC_INIT;
	strvec_pushv(&argv, ARGV("zfs", "set"));
	strvec_pushv(&argv, assignments);
	strvec_push(&argv, dataset);
	int r = run_change(z, (const char *const *)argv.v);
	strvec_release(&argv);
	return r;
}

int zfs_inherit_prop(struct zfs *z, const char *dataset, const char *prop)
{
	return run_change(z, ARGV("zfs", "inherit", prop, dataset));
}

int zfs_unmount(struct zfs *z, const char *filesystem)
{
	return run_change(z, ARGV("zfs", "unmount", filesystem));
}

int zfs_create(struct zfs *z, const char *name, bool parents, const char *const *props)
{
	struct strvec argv = STRVEC_INIT;
	strvec_pushv(&argv, ARGV("zfs", "create"));
	if (parents)
		strvec_push(&argv, "-p");
	for (const char *const *p = props; p && *p; p++) {
		strvec_push(&argv, "-o");
		strvec_push(&argv, *p);
	}
	strvec_push(&argv, name);
	int r = run_change(z, (const char *const *)argv.v);
	strvec_release(&argv);
	return r;
}

int zfs_snapshot(struct zfs *z, const char *const *snapshots, bool recursive,
		 const char *const *props)
{
	struct strvec argv = STRVEC_INIT;
	if (!snapshots || !*snapshots)
		return 0;
	strvec_pushv(&argv, ARGV("zfs", "snapshot"));
	if (recursive)
		strvec_push(&argv, "-r");
	for (const char *const *p = props; p && *p; p++) {
		strvec_push(&argv, "-o");
		strvec_push(&argv, *p);
	}
	strvec_pushv(&argv, snapshots);
	int r = run_change(z, (const char *const *)argv.v);
	strvec_release(&argv);
	return r;
}

int zfs_destroy_snapshots(struct zfs *z, const char *dataset, const char *const *short_names)
{
	size_t i = 0;
	int r = 0;
	while (short_names && short_names[i] && r == 0) {
		struct strbuf arg = STRBUF_INIT;
		strbuf_addf(&arg, "%s@%s", dataset, short_names[i++]);
		while (short_names[i] && arg.len + strlen(short_names[i]) + 1 < DESTROY_BATCH_BYTES)
			strbuf_addf(&arg, ",%s", short_names[i++]);
		r = run_change(z, ARGV("zfs", "destroy", arg.buf));
		strbuf_release(&arg);
	}
	return r;
}

void zfs_destroy_snapshots_parallel(struct zfs *z, const char *const *datasets,
				    const char *const *const *names, size_t n, unsigned parallel,
				    bool *ok)
{
	struct running {
		struct child c;
		size_t i;
	} *run = xcalloc(parallel ? parallel : 1, sizeof(*run));
	size_t nrun = 0, head = 0; /* a ring, waited for oldest first */
	if (!parallel)
		parallel = 1;
	for (size_t i = 0; i <= n; i++) {
		/* wait for the oldest when the ring is full, or for all at the end */
		while (nrun && (nrun == parallel || i == n)) {
			struct running *w = &run[head];
			int st = 0;
			ok[w->i] = spawn_wait(&w->c, &st) == 0 && spawn_exit_code(st) == 0;
			head = (head + 1) % parallel;
			nrun--;
		}
		if (i == n)
			break;
		ok[i] = false;
		_cleanup_strbuf_ struct strbuf arg = STRBUF_INIT;
		strbuf_addstr(&arg, datasets[i]);
		for (size_t j = 0; names[i] && names[i][j]; j++)
			strbuf_addf(&arg, "%c%s", j ? ',' : '@', names[i][j]);
		if (!names[i] || !names[i][0] || arg.len >= DESTROY_BATCH_BYTES)
			continue;
		const char *const *argv = ARGV("zfs", "destroy", arg.buf);
		if (z->dry_run) {
			ok[i] = run_change(z, argv) == 0;
			continue;
		}
		struct running *slot = &run[(head + nrun) % parallel];
		*slot = (struct running){ .c = CHILD_INIT, .i = i };
		if (runner_start(z->run, argv, SPAWN_NULL, SPAWN_NULL, SPAWN_NULL, &slot->c) == 0)
			nrun++;
	}
	free(run);
}

static const char destroy_lua[] =
	"local argv = ...\n"
	"argv = argv[\"argv\"]\n"
	"local failed = {}\n"
	"local nfailed = 0\n"
	"for i = 1, #argv do\n"
	"  local err = zfs.sync.destroy(argv[i])\n"
	"  if err ~= 0 then failed[argv[i]] = err; nfailed = nfailed + 1 end\n"
	"end\n"
	"return {failed = failed, nfailed = nfailed}\n";

/* Names per program: well inside ARG_MAX and the program's memory limit. */
#define ZCP_BATCH_BYTES (96 * 1024)

int zfs_destroy_snapshots_zcp(struct zfs *z, const char *pool, const char *const *snapshots,
			      struct strvec *done, struct strvec *failed, struct strvec *reasons)
{
	size_t i = 0;
	strbuf_reset(&z->err);
	while (snapshots && snapshots[i]) {
		struct strvec argv = STRVEC_INIT;
		struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
		size_t first = i, bytes = 0;
		int code = 0;
		json_error_t jerr;
		strvec_pushv(&argv, ARGV("zfs", "program", "-j", "-t", "100000000", "-m", "100000000",
					 pool, "/dev/stdin"));
		while (snapshots[i] && (i == first || bytes + strlen(snapshots[i]) < ZCP_BATCH_BYTES)) {
			bytes += strlen(snapshots[i]) + 1;
			strvec_push(&argv, snapshots[i++]);
		}
		int r = runner_run(z->run, (const char *const *)argv.v, destroy_lua, strlen(destroy_lua),
				   &out, &err, &code);
		strvec_release(&argv);
		if (r < 0 || code != 0) {
			strbuf_rtrim(&err);
			if (first == 0) {
				strbuf_reset(&z->err);
				strbuf_addf(&z->err, "zfs program on %s: %s", pool,
					    err.len ? err.buf : r < 0 ? strerror(-r) : "failed");
				strbuf_release(&out);
				strbuf_release(&err);
				return -ENOTSUP; /* nothing done yet: the caller falls back */
			}
			for (size_t j = first; j < i; j++) {
				strvec_push(failed, snapshots[j]);
				strvec_push(reasons, err.len ? err.buf : "zfs program failed");
			}
			strbuf_release(&out);
			strbuf_release(&err);
			continue;
		}
		json_t *root = json_loads(out.buf ? out.buf : "", 0, &jerr);
		json_t *ret = root ? json_object_get(root, "return") : NULL;
		json_t *fl = ret ? json_object_get(ret, "failed") : NULL;
		for (size_t j = first; j < i; j++) {
			json_t *v = fl && json_is_object(fl) ? json_object_get(fl, snapshots[j]) : NULL;
			if (!root || v) {
				strvec_push(failed, snapshots[j]);
				strvec_push(reasons, !root ? "unreadable answer of zfs program"
							   : strerror((int)json_integer_value(v)));
			} else {
				strvec_push(done, snapshots[j]);
			}
		}
		json_decref(root);
		strbuf_release(&out);
		strbuf_release(&err);
	}
	return 0;
}

int zfs_destroy(struct zfs *z, const char *name, unsigned flags)
{
	struct strvec argv = STRVEC_INIT;
	strvec_pushv(&argv, ARGV("zfs", "destroy"));
	if (flags & ZFS_DESTROY_RECURSIVE)
		strvec_push(&argv, "-r");
	if (flags & ZFS_DESTROY_DEFER)
		strvec_push(&argv, "-d");
	strvec_push(&argv, name);
	int r = run_change(z, (const char *const *)argv.v);
	strvec_release(&argv);
	return r;
}

int zfs_rollback(struct zfs *z, const char *snapshot, bool destroy_newer)
{
	if (destroy_newer)
		return run_change(z, ARGV("zfs", "rollback", "-r", snapshot));
	return run_change(z, ARGV("zfs", "rollback", snapshot));
}

static int hold_release(struct zfs *z, const char *verb, const char *tag,
			const char *const *snapshots, bool recursive)
{
	struct strvec argv = STRVEC_INIT;
	if (!snapshots || !*snapshots)
		return 0;
	strvec_pushv(&argv, ARGV("zfs", verb));
	if (recursive)
		strvec_push(&argv, "-r");
	strvec_push(&argv, tag);
	strvec_pushv(&argv, snapshots);
	int r = run_change(z, (const char *const *)argv.v);
	strvec_release(&argv);
	return r;
}

int zfs_hold(struct zfs *z, const char *tag, const char *const *snapshots, bool recursive)
{
	return hold_release(z, "hold", tag, snapshots, recursive);
}

int zfs_hold_release(struct zfs *z, const char *tag, const char *const *snapshots, bool recursive)
{
	return hold_release(z, "release", tag, snapshots, recursive);
}

int zfs_list_holds(struct zfs *z, const char *const *snapshots, bool recursive,
		   struct zfs_holds *out)
{
	struct strvec argv = STRVEC_INIT;
	struct strbuf outb = STRBUF_INIT;
	*out = (struct zfs_holds){ 0 };
	if (!snapshots || !*snapshots)
		return 0;
	/* -p is 2.2+: on 2.1 ("invalid option 'p'") the dates are parsed instead, and
	 * this struct zfs asks without -p from then on. */
	strvec_pushv(&argv, ARGV("zfs", "holds", z->no_holds_p ? "-H" : "-Hp"));
	if (recursive)
		strvec_push(&argv, "-r");
	strvec_pushv(&argv, snapshots);
	int r = run_capture(z, (const char *const *)argv.v, &outb);
	if (r < 0 && !z->no_holds_p && strstr(z->err.buf, "invalid option 'p'")) {
		z->no_holds_p = true;
		free(argv.v[2]);
		argv.v[2] = xstrdup("-H");
		strbuf_reset(&outb);
		r = run_capture(z, (const char *const *)argv.v, &outb);
	}
	if (r == 0) {
		r = zfs_parse_holds(outb.buf, outb.len, out, &z->err);
		if (r < 0)
			zfs_holds_release(out);
	}
	strvec_release(&argv);
	strbuf_release(&outb);
	return r;
}

int zfs_bookmark(struct zfs *z, const char *source, const char *bookmark)
{
	return run_change(z, ARGV("zfs", "bookmark", source, bookmark));
}

int zfs_send_estimate(struct zfs *z, const struct zfs_send_args *a, uint64_t *bytes)
{
	struct strvec argv = STRVEC_INIT;
	struct strbuf outb = STRBUF_INIT;
	zfs_send_argv(a, true, &argv);
	int r = run_capture(z, (const char *const *)argv.v, &outb);
	if (r == 0 && zfs_parse_send_estimate(outb.buf, outb.len, bytes) < 0) {
		strbuf_addstr(&z->err, "zfs send -nvP printed no size");
		r = -EINVAL;
	}
	strvec_release(&argv);
	strbuf_release(&outb);
	return r;
}

/* Start a send or receive with stderr in an anonymous file. */
static int proc_start(struct zfs *z, struct strvec *argv, int in, int out, struct zfs_proc *p)
{
	*p = (struct zfs_proc)ZFS_PROC_INIT;
	strbuf_reset(&z->err);
	p->errfd = memfd_create("zkeep-zfs-stderr", MFD_CLOEXEC);
	if (p->errfd < 0) {
		strbuf_addf(&z->err, "memfd_create: %s", strerror(errno));
		return -errno;
	}
	struct strbuf what = STRBUF_INIT;
	describe_argv(&what, (const char *const *)argv->v);
	p->what = strbuf_detach(&what);
	int r = runner_start(z->run, (const char *const *)argv->v, in, out, p->errfd, &p->c);
	if (r < 0) {
		r = spawn_failed(z, (const char *const *)argv->v, r);
		close(p->errfd);
		p->errfd = -1;
		free(p->what);
		p->what = NULL;
	}
	return r;
}

int zfs_send_start(struct zfs *z, const struct zfs_send_args *a, int out_fd, struct zfs_proc *p)
{
	struct strvec argv = STRVEC_INIT;
	zfs_send_argv(a, false, &argv);
	int r = proc_start(z, &argv, SPAWN_NULL, out_fd, p);
	strvec_release(&argv);
	return r;
}

int zfs_recv_start(struct zfs *z, const struct zfs_recv_args *a, int in_fd, struct zfs_proc *p)
{
	struct strvec argv = STRVEC_INIT;
	zfs_recv_argv(a, &argv);
	int r = proc_start(z, &argv, in_fd, SPAWN_NULL, p);
	strvec_release(&argv);
	return r;
}

int zfs_proc_finish(struct zfs *z, struct zfs_proc *p)
{
	int st = 0, r;
	strbuf_reset(&z->err);
	r = spawn_wait(&p->c, &st);
	struct strbuf err = STRBUF_INIT;
	strbuf_init(&err, 1 << 20);
	if (p->errfd >= 0) {
		lseek(p->errfd, 0, SEEK_SET);
		strbuf_read_fd(&err, p->errfd);
		close(p->errfd);
		p->errfd = -1;
	}
	strbuf_rtrim(&err);
	if (r < 0) {
		strbuf_addf(&z->err, "%s: wait failed: %s", p->what ? p->what : "zfs", strerror(-r));
	} else if (spawn_exit_code(st) != 0) {
		struct strbuf how = STRBUF_INIT;
		spawn_describe_status(&how, st);
		strbuf_addf(&z->err, "%s failed (%s)%s%s", p->what ? p->what : "zfs", how.buf,
			    err.len ? ": " : "", err.buf);
		r = zfs_errno_from_message(err.buf);
		strbuf_release(&how);
	} else {
		strbuf_add(&z->err, err.buf, err.len);
		r = 0;
	}
	strbuf_release(&err);
	free(p->what);
	p->what = NULL;
	return r;
}

void zfs_proc_kill(struct zfs_proc *p)
{
	if (p->c.pid > 0)
		kill(p->c.pid, SIGTERM);
	spawn_wait(&p->c, NULL);
	if (p->errfd >= 0)
		close(p->errfd);
	p->errfd = -1;
	free(p->what);
	p->what = NULL;
}

int zfs_exists(struct zfs *z, const char *name)
{
	_cleanup_strbuf_ struct strbuf out = STRBUF_INIT;
	return run_capture(z, ARGV("zfs", "list", "-H", "-o", "name", name), &out) == 0;
}

int zfs_get_resume_token(struct zfs *z, const char *dataset, char **token)
{
	char *v = NULL;
	*token = NULL;
	int r = zfs_get_prop(z, dataset, "receive_resume_token", &v);
	if (r < 0)
		return r;
	if (v[0] && !streq(v, "-"))
		*token = v;
	else
		free(v);
	return 0;
}

int zfs_recv_abort(struct zfs *z, const char *dataset)
{
	return run_change(z, ARGV("zfs", "receive", "-A", dataset));
}

void zfs_receive_target_state(struct zfs *z, const char *name, bool *exists, bool *partial_full)
{
	_cleanup_free_ char *token = NULL;
	_cleanup_strbuf_ struct strbuf snaps = STRBUF_INIT;
	/* the token's `zfs get` fails exactly when the dataset is not there */
	*exists = zfs_get_resume_token(z, name, &token) == 0;
	*partial_full = token && run_capture(z, ARGV("zfs", "list", "-H", "-o", "name", "-t",
						     "snapshot", "-d", "1", name), &snaps) == 0 &&
			snaps.len == 0;
}

/* An absolute path that a line-based listing cannot have cut or joined. */
static bool plain_abs_path(const char *p)
{
	if (!p || p[0] != '/')
		return false;
	for (; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return false;
	return true;
}

/* dir and a last name joined by one slash ("/" and "x": "/x"). */
static char *path_join(const char *dir, const char *name)
{
	size_t n = strlen(dir);
	return xasprintf("%s%s%s", dir, n && dir[n - 1] == '/' ? "" : "/", name);
}

/* Each path where dataset is mounted now, as a whole and on a plain path, into paths. */
static void real_mounts(const struct mount_table *mt, const char *dataset, struct strvec *paths)
{
	_cleanup_strvec_ struct strvec all = STRVEC_INIT;
	mount_table_zfs_paths(mt, dataset, &all);
	for (size_t i = 0; i < all.n; i++)
		if (plain_abs_path(all.v[i]))
			strvec_push(paths, all.v[i]);
}

int zfs_received_mount_areas(struct zfs *z, const char *target, struct strvec *areas)
{
	_cleanup_release_(mount_table) struct mount_table mt = MOUNT_TABLE_INIT;
	int r = mountinfo_read(&mt);
	if (r < 0) {
		strbuf_addf(&z->err, "cannot read /proc/self/mountinfo: %s", strerror(-r));
		return r;
	}
	/*
	 * Real mounts, not mountpoint properties: a receive into a mounted
	 * dataset, or a worker's own ioctl, changes the property and moves no
	 * mount. The target where it is mounted now (by hand, or by root before).
	 */
	real_mounts(&mt, target, areas);
	const char *slash = strrchr(target, '/');
	const char *const ds[] = { target, NULL };
	if (!slash) {
		/* a pool's root: where ZFS mounts it by default, unless someone set it */
		const char *const props[] = { "mountpoint", NULL };
		struct zfs_props p = { 0 };
		r = zfs_get_props(z, ds, false, props, ZFS_SRC_DEFAULT, &p);
		if (r == 0 && p.n == 1 && plain_abs_path(p.p[0].value))
			strvec_push(areas, p.p[0].value);
		zfs_props_release(&p);
		return r;
	}
	/* the directory target inherits from its parent: below the parent's real mount */
	_cleanup_free_ char *parent = xstrndup(target, (size_t)(slash - target));
	_cleanup_strvec_ struct strvec at = STRVEC_INIT;
	real_mounts(&mt, parent, &at);
	for (size_t i = 0; i < at.n; i++)
		strvec_push_nodup(areas, path_join(at.v[i], slash + 1));
	if (at.n)
		return 0;
	/*
	 * A parent that is not mounted (canmount=off, say): where its mountpoint
	 * says, once ZFS confirms it is not mounted (a table read while mounts
	 * changed could have missed its line).
	 */
	const char *const pds[] = { parent, NULL };
	const char *const props[] = { "mounted", "mountpoint", NULL };
	struct zfs_props p = { 0 };
	if ((r = zfs_get_props(z, pds, false, props, 0, &p)) < 0)
		return r;
	if (p.n == 2 && streq(p.p[0].dataset, parent) && streq(p.p[0].name, "mounted") &&
	    streq(p.p[0].value, "no") && streq(p.p[1].dataset, parent) &&
	    streq(p.p[1].name, "mountpoint") && plain_abs_path(p.p[1].value))
		strvec_push_nodup(areas, path_join(p.p[1].value, slash + 1));
	zfs_props_release(&p);
	return 0;
}

/* Whether t lists root and datasets below it, each once: what a line break in a
 * property value could fake (a second line for a name) is refused. */
static bool one_tree(const struct zfs_tree *t, const char *root)
{
	for (size_t i = 0; i < t->nds; i++) {
		if (!zfs_name_within(t->ds[i].name, root))
			return false;
		for (size_t k = 0; k < i; k++)
			if (streq(t->ds[k].name, t->ds[i].name))
				return false;
	}
	return true;
}

static bool within_any(const char *path, const char *const *areas)
{
	for (size_t i = 0; areas && areas[i]; i++)
		if (path_within(path, areas[i]))
			return true;
	return false;
}

/*
 * A dataset root does not mount must not be mounted at the next boot or `zfs
 * mount -a` either, where nothing checks its way: canmount=noauto (the
 * operator can still `zfs mount` it). What became of that, for the message.
 */
static const char *keep_from_boot(struct zfs *z, const char *name)
{
	const char *const set[] = { "canmount=noauto", NULL };
	if (zfs_set_props(z, name, set) < 0)
		return "; and canmount could not be set to noauto: a boot or `zfs mount -a` "
		       "may mount it there";
	return "; canmount=noauto now, so that no boot or `zfs mount -a` mounts it there";
}

int zfs_mount_received(struct zfs *z, const char *const *areas, const char *root, bool recursive,
		       struct strvec *failed, struct strvec *elsewhere, struct strvec *refused)
{
	const char *const roots[] = { root, NULL };
	const char *const props[] = { "canmount", "mounted", "mountpoint", NULL };
	_cleanup_release_(zfs_tree) struct zfs_tree t = ZFS_TREE_INIT;
	int r = zfs_list_tree(z, roots, recursive ? ZFS_LIST_RECURSIVE : 0, props, &t);
	if (r == 0 && !one_tree(&t, root)) {
		strvec_pushf(refused, "%s: its listing names a dataset twice or one outside it (a "
			     "property value with a line break?): nothing is mounted", root);
		return -EINVAL;
	}
	for (size_t i = 0; r == 0 && i < t.nds; i++) {
		const struct zfs_dataset *d = &t.ds[i];
		if (d->type != ZFS_TYPE_FILESYSTEM || !streq(d->props[0], "on") ||
		    !streq(d->props[1], "no") || !d->props[2] || d->props[2][0] != '/')
			continue;
		_cleanup_strbuf_ struct strbuf msg = STRBUF_INIT;
		int code = 0;
		if (!areas || !areas[0]) {
			strvec_pushf(elsewhere, "%s: mountpoint %s: this host chose none (the target's "
				     "parent mounts nowhere, or it is a pool's root whose mountpoint "
				     "was set)%s", d->name, d->props[2], keep_from_boot(z, d->name));
			continue;
		}
		if (!plain_abs_path(d->props[2]) || !within_any(d->props[2], areas)) {
			_cleanup_strbuf_ struct strbuf where = STRBUF_INIT;
			for (size_t k = 0; areas[k]; k++)
				strbuf_addf(&where, "%s%s", k ? " or " : "", areas[k]);
			strvec_pushf(elsewhere, "%s: mountpoint %s lies outside %s, where root mounts "
				     "what it receives (the directory the target inherits, or where "
				     "the target is mounted)%s", d->name, d->props[2], where.buf,
				     keep_from_boot(z, d->name));
			continue;
		}
		if (path_root_only(d->props[2], &msg) < 0) {
			strvec_pushf(refused, "%s: mountpoint %s: %s%s", d->name, d->props[2],
				     msg.buf, keep_from_boot(z, d->name));
			continue;
		}
		if (runner_run(z->run, ARGV("zfs", "mount", d->name), NULL, 0, NULL, &msg, &code) < 0 ||
		    code != 0)
			strvec_pushf(failed, "%s: %s", d->name, msg.buf);
	}
	return r;
}

int zpool_list(struct zfs *z, const char *const *pools, struct zpool_infos *out)
{
	struct strvec argv = STRVEC_INIT;
	struct strbuf outb = STRBUF_INIT;
	*out = (struct zpool_infos){ 0 };
	strvec_pushv(&argv, ARGV("zpool", "list", "-Hp", "-o",
				 "name,health,guid,size,allocated,free,capacity"));
	strvec_pushv(&argv, pools);
	int r = run_capture(z, (const char *const *)argv.v, &outb);
	if (r == 0) {
		r = zpool_parse_list(outb.buf, outb.len, out, &z->err);
		if (r < 0)
			zpool_infos_release(out);
	}
	strvec_release(&argv);
	strbuf_release(&outb);
	return r;
}

int zpool_get_prop(struct zfs *z, const char *pool, const char *prop, char **value)
{
	struct strbuf outb = STRBUF_INIT;
	int r = run_capture(z, ARGV("zpool", "get", "-Hp", "-o", "value", prop, pool), &outb);
	if (r == 0) {
		strbuf_rtrim(&outb);
		*value = strbuf_detach(&outb);
	}
	strbuf_release(&outb);
	return r;
}

int zpool_get_pools_props(struct zfs *z, const char *const *pools, size_t npools,
			  const char *const *props, size_t nprops, char **values)
{
	_cleanup_strvec_ struct strvec argv = STRVEC_INIT, keys = STRVEC_INIT;
	_cleanup_strbuf_ struct strbuf list = STRBUF_INIT, outb = STRBUF_INIT;
	for (size_t k = 0; k < nprops; k++)
		strbuf_addf(&list, "%s%s", k ? "," : "", props[k]);
	strvec_pushv(&argv, ARGV("zpool", "get", "-Hp", "-o", "name,property,value", list.buf));
	for (size_t i = 0; i < npools; i++) {
		strvec_push(&argv, pools[i]);
		for (size_t k = 0; k < nprops; k++)
			strvec_pushf(&keys, "%s\t%s", pools[i], props[k]);
	}
	for (size_t i = 0; i < npools * nprops; i++)
		values[i] = NULL;
	int r = run_capture(z, (const char *const *)argv.v, &outb);
	if (r == 0 && (r = zpool_parse_keyed(outb.buf, outb.len, (const char *const *)keys.v,
					     keys.n, 2, values)) < 0)
		strbuf_addf(&z->err, "cannot understand 'zpool get %s' output: %s", list.buf,
			    outb.buf);
	return r;
}

int zpool_get_prop_pools(struct zfs *z, const char *prop, const char *const *pools, size_t n,
			 char **values)
{
	return zpool_get_pools_props(z, pools, n, &prop, 1, values);
}

static void import_dirs(const char *const *dirs, struct strvec *argv)
{
	strvec_pushv(argv, ARGV("zpool", "import"));
	for (const char *const *d = dirs; d && *d; d++) {
		strvec_push(argv, "-d");
		strvec_push(argv, *d);
	}
}

int zpool_import(struct zfs *z, const char *name_or_guid, const char *const *dirs,
		 const char *altroot, unsigned flags)
{
	_cleanup_strvec_ struct strvec argv = STRVEC_INIT;
	_cleanup_strbuf_ struct strbuf e = STRBUF_INIT;
	import_dirs(dirs, &argv);
	if (flags & ZPOOL_IMPORT_NO_CACHEFILE)
		strvec_pushv(&argv, ARGV("-o", "cachefile=none"));
	if (flags & ZPOOL_IMPORT_NO_DELEGATION)
		strvec_pushv(&argv, ARGV("-o", "delegation=off"));
	if (altroot) {
		strvec_push(&argv, "-o");
		strvec_pushf(&argv, "altroot=%s", altroot);
	}
	if (flags & ZPOOL_IMPORT_NO_MOUNT)
		strvec_push(&argv, "-N");
	strvec_push(&argv, name_or_guid);
	strbuf_reset(&z->err);
	strbuf_init(&e, 1 << 20);
	int code = 0;
	int r = runner_run(z->run, (const char *const *)argv.v, NULL, 0, NULL, &e, &code);
	if (r < 0) {
		strbuf_addf(&z->err, "cannot run zpool import: %s", strerror(-r));
		return -ENOEXEC;
	}
	if (code == 0)
		return 0;
	strbuf_rtrim(&e);
	_cleanup_free_ char *words = strvec_join(&argv, " ");
	strbuf_addf(&z->err, "'%s' failed (exit status %d)%s%s", words, code, e.len ? ": " : "",
		    e.buf);
	return zfs_errno_from_message(e.buf);
}

int zpool_import_scan(struct zfs *z, const char *const *dirs, struct strbuf *out)
{
	_cleanup_strvec_ struct strvec argv = STRVEC_INIT;
	_cleanup_strbuf_ struct strbuf e = STRBUF_INIT;
	import_dirs(dirs, &argv);
	strbuf_reset(&z->err);
	int code = 0;
	int r = runner_run(z->run, (const char *const *)argv.v, NULL, 0, out, &e, &code);
	if (r < 0) {
		strbuf_addf(&z->err, "cannot run zpool import: %s", strerror(-r));
		return -ENOEXEC;
	}
	return 0;
}

int zpool_export(struct zfs *z, const char *pool)
{
	return run_change(z, ARGV("zpool", "export", pool));
}

int zpool_scrub(struct zfs *z, const char *pool, bool wait)
{
	if (wait)
		return run_change(z, ARGV("zpool", "scrub", "-w", pool));
	return run_change(z, ARGV("zpool", "scrub", pool));
}

int zpool_list_human(struct zfs *z, const char *pool, const char *columns, struct strbuf *out)
{
	return run_capture(z, ARGV("zpool", "list", "-o", columns, pool), out);
}

int zpool_status(struct zfs *z, const char *pool, struct strbuf *out)
{
	return run_capture(z, ARGV("zpool", "status", "-p", pool), out);
}

int zpool_list_devices(struct zfs *z, const char *pool, struct strbuf *out)
{
	return run_capture(z, ARGV("zpool", "list", "-vHPL", pool), out);
}

int zfs_diff(struct zfs *z, const char *a, const char *b, struct strbuf *out)
{
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	int code = 0;
	strbuf_reset(&z->err);
	strbuf_init(&err, 1 << 20);
	int r = runner_run(z->run, ARGV("zfs", "diff", "-FHt", a, b), NULL, 0, out, &err, &code);
	if (r < 0) {
		strbuf_addstr(&z->err, r == -E2BIG ? "output too large" : strerror(-r));
		return r;
	}
	if (code != 0) {
		strbuf_rtrim(&err);
		strbuf_addstr(&z->err, err.buf);
		r = zfs_errno_from_message(err.buf);
	}
	return r;
}

int zfs_allow_list(struct zfs *z, const char *dataset, struct strbuf *out)
{
	return run_capture(z, ARGV("zfs", "allow", dataset), out);
}

int zfs_unallow_who(struct zfs *z, const char *who, const char *dataset)
{
	_cleanup_strvec_ struct strvec argv = STRVEC_INIT;
	strvec_pushv(&argv, ARGV("zfs", "unallow"));
	const char *tab = strchr(who, '\t');
	/* "--": a name the drive recorded may begin with '-' ("(unknown: -5)") */
	if (tab) {
		strvec_push_nodup(&argv, xstrndup(who, (size_t)(tab - who)));
		strvec_push(&argv, "--");
		strvec_push(&argv, tab + 1);
	} else {
		strvec_push(&argv, who);
		strvec_push(&argv, "--");
	}
	strvec_push(&argv, dataset);
	return run_change(z, (const char *const *)argv.v);
}

int zpool_set_prop(struct zfs *z, const char *pool, const char *prop, const char *value)
{
	_cleanup_free_ char *pv = xasprintf("%s=%s", prop, value);
	return run_change(z, ARGV("zpool", "set", pv, pool));
}
