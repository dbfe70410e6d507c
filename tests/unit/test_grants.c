/*
 * grants: journal before every zfs allow, revoke after, recover after a
 * crash. A fake runner records each argv and answers like zfs would (a
 * script run through spawn), and checks at each `zfs allow` that the grant
 * is already in the journal on disk.
 */
#include "unit.h"
#include "confine/grants.h"
#include "base/spawn.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>

struct fake {
	struct runner base;
	struct strvec calls;      /* each argv joined by spaces */
	const char *delegation;   /* what zpool get answers */
	const char *guid;         /* the pools' guid */
	const char *exported;     /* a pool that is not imported */
	bool fail_unallow;
	const char *journal_dir;  /* to check write-before-grant */
	const char *allow_text;   /* what `zfs allow DATASET` prints */
	int txg_listings;         /* createtxg listings so far */
	int allow_not_journalled; /* allows seen before their journal line */
};

static bool journal_has(const char *dir, const char *dataset)
{
	_cleanup_free_ char *gdir = xasprintf("%s/grants", dir);
	_cleanup_free_ char *needle = xasprintf("\t%s\t", dataset);
	DIR *d = opendir(gdir);
	struct dirent *de;
	bool found = false;
	while (d && !found && (de = readdir(d))) {
		_cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
		_cleanup_free_ char *p = xasprintf("%s/%s", gdir, de->d_name);
		found = ends_with(p, ".journal") && strbuf_read_file(&sb, p) == 0 &&
			strstr(sb.buf, needle);
	}
	if (d)
		closedir(d);
	return found;
}

static int fake_start(struct runner *r, const char *const *argv, int in, int out, int err,
		      struct child *c)
{
	struct fake *f = (struct fake *)r;
	struct strvec sv = STRVEC_INIT;
	strvec_pushv(&sv, argv);
	strvec_push_nodup(&f->calls, strvec_join(&sv, " "));
	const char *script = "exit 0";
	_cleanup_free_ char *owned = NULL;
	bool exported = false;
	for (size_t i = 6; streq(argv[0], "zpool") && f->exported && i < sv.n; i++)
		exported = exported || streq(argv[i], f->exported);
	if (exported) {
		script = "echo \"cannot open 'backup': no such pool\" >&2; exit 1";
	} else if (streq(argv[0], "zpool") && streq(argv[4], "value")) {
		owned = xasprintf("echo %s", streq(argv[5], "guid") ? f->guid : f->delegation);
		script = owned;
	} else if (streq(argv[0], "zpool")) {
		/* `zpool get -Hp -o name,property,value P1,P2 POOL...`: every pool's
		 * answers, last pool and property first (not the order asked) */
		_cleanup_strvec_ struct strvec props = STRVEC_INIT;
		strvec_split(&props, argv[5], ",");
		_cleanup_strbuf_ struct strbuf lines = STRBUF_INIT;
		for (size_t i = sv.n; i-- > 6;)
			for (size_t k = props.n; k-- > 0;)
				strbuf_addf(&lines, "%s\\t%s\\t%s\\n", argv[i], props.v[k],
					    streq(props.v[k], "guid") ? f->guid : f->delegation);
		owned = xasprintf("printf '%s'", lines.buf);
		script = owned;
	} else if (streq(argv[1], "list") && strstr(argv[sv.n - 1], "gone")) {
		script = "echo \"cannot open 'tank/gone': dataset does not exist\" >&2; exit 1";
	} else if (streq(argv[1], "get") && streq(argv[sv.n - 2], "createtxg")) {
		/* the tree before the run (value), and after (value,name) */
		script = f->txg_listings++ % 2 == 0 /* a grant's, then its revoke's */
				 ? "printf '3\tbackup\n5\tbackup/old\n'"
				 : "printf '3\tbackup\n5\tbackup/old\n9\tbackup/new\n10\tbackup/new/kid\n"
				   "11\tbackup/new/kid/g\n12\tbackup/planted\n'";
	} else if (streq(argv[1], "allow") && sv.n == 3) {
		owned = xasprintf("printf '%%s' '%s'", f->allow_text ? f->allow_text : "");
		script = owned;
	} else if (streq(argv[1], "allow")) {
		if (!journal_has(f->journal_dir, argv[sv.n - 1]))
			f->allow_not_journalled++;
	} else if (streq(argv[1], "unallow") && f->fail_unallow) {
		script = "echo \"cannot unallow: pool I/O is currently suspended\" >&2; exit 1";
	} else if (streq(argv[1], "unallow") && strstr(argv[sv.n - 1], "gone")) {
		script = "echo \"cannot open 'tank/gone': dataset does not exist\" >&2; exit 1";
	}
	strvec_release(&sv);
	const char *const sh[] = { "/bin/sh", "-c", script, NULL };
	struct spawn_req req = { .argv = sh, .in = in, .out = out, .err = err };
	return spawn_start(&req, c);
}

static void fake_free(struct runner *r)
{
	strvec_release(&((struct fake *)r)->calls);
}

static const struct runner_ops fake_ops = { .start = fake_start, .free = fake_free };

static void fake_init(struct fake *f, const char *dir)
{
	*f = (struct fake){ .base = { .ops = &fake_ops, .label = (char *)"fake" },
			    .calls = STRVEC_INIT, .delegation = "on", .guid = "1234",
			    .journal_dir = dir };
}

static char *state_dir(void)
{
	char tmpl[] = "/tmp/zkeep-grants-XXXXXX";
	assert_non_null(mkdtemp(tmpl));
	return xstrdup(tmpl);
}

static void rm_state(const char *dir)
{
	const char *const argv[] = { "rm", "-rf", dir, NULL };
	struct spawn_req req = { .argv = argv };
	int code;
	assert_int_equal(spawn_run(&req, NULL, 0, NULL, NULL, &code), 0);
}

static void make_set(struct deleg_set *set)
{
	struct deleg_need n[] = {
		{ .dataset = "tank/data", .exists = true, .ops = DELEG_SEND | DELEG_HOLD },
		{ .dataset = "backup/data", .exists = true, .recursive = true,
		  .ops = DELEG_RECEIVE | DELEG_RECV_FORCE },
	};
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	assert_int_equal(deleg_compute(n, 2, 2, 3, set, &err), 0);
}

/* uid 60000 (the only one of its range) holds make_set's grants. */
static void granted_60000(struct fake *f, const char *dir, struct grants *g)
{
	_cleanup_deleg_set_ struct deleg_set set = DELEG_SET_INIT;
	make_set(&set);
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	assert_int_equal(grants_begin(g, dir, 60000, 60000, &err), 0);
	assert_int_equal(grants_apply(g, &set, grants_same_runner, f, &err), 0);
}

static void test_apply_and_end(void **state)
{
	_cleanup_free_ char *dir = state_dir();
	struct fake f;
	fake_init(&f, dir);
	_cleanup_deleg_set_ struct deleg_set set = DELEG_SET_INIT;
	make_set(&set);
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	struct grants g = GRANTS_INIT;

	assert_int_equal(grants_begin(&g, dir, 60000, 60009, &err), 0);
	assert_int_equal(g.uid, 60000);
	/* A second run gets another uid. */
	struct grants g2 = GRANTS_INIT;
	assert_int_equal(grants_begin(&g2, dir, 60000, 60009, &err), 0);
	assert_int_equal(g2.uid, 60001);
	assert_int_equal(grants_end(&g2, grants_same_runner, &f, &err), 0);

	assert_int_equal(grants_apply(&g, &set, grants_same_runner, &f, &err), 0);
	assert_int_equal(f.allow_not_journalled, 0);
	/* one zpool process for both pools */
	assert_true(strvec_find(&f.calls, "zpool get -Hp -o name,property,value delegation,guid "
					  "tank backup") >= 0 ||
		    strvec_find(&f.calls, "zpool get -Hp -o name,property,value delegation,guid "
					  "backup tank") >= 0);
	assert_true(strvec_find(&f.calls,
		"zfs allow -u 60000 create,mount,receive,rollback backup/data") >= 0);
	assert_true(strvec_find(&f.calls, "zfs allow -l -u 60000 hold,release tank/data") >= 0);
	assert_true(strvec_find(&f.calls, "zfs allow -d -u 60000 send tank/data") >= 0);
	_cleanup_free_ char *journal = xstrdup(g.journal);
	assert_int_equal(grants_end(&g, grants_same_runner, &f, &err), 0);
	assert_true(strvec_find(&f.calls, "zfs unallow -u 60000 tank/data") >= 0);
	assert_true(strvec_find(&f.calls, "zfs unallow -u 60000 backup/data") >= 0);
	/*
	 * backup/data's grant has create: what the uid made below it since the
	 * grant may hold copies of another run's create-time set, revoked too
	 * (the fake's listing after the run names new datasets). tank/data's has
	 * no create: no listing.
	 */
	assert_true(strvec_find(&f.calls, "zfs unallow -r -u 60000 backup/new") >= 0);
	assert_true(strvec_find(&f.calls, "zfs get -Hpr -t filesystem,volume -o value,name "
					  "createtxg tank/data") < 0);
	assert_int_equal(access(journal, F_OK), -1);
	assert_int_equal(g.fd, -1);
	fake_free(&f.base);
	rm_state(dir);
}

/* A new target: the parent's create-time set gets what it lacks, and loses only that. */
static void test_create_time_grant(void **state)
{
	_cleanup_free_ char *dir = state_dir();
	struct fake f;
	fake_init(&f, dir);
	/* The operator's own create-time set already has destroy. */
	f.allow_text = "---- Permissions on backup ----\nCreate time permissions:\n\tdestroy\n";
	struct deleg_need n = { .dataset = "backup/new", .exists = false,
				.ops = DELEG_RECEIVE | DELEG_RECV_ABORT };
	_cleanup_deleg_set_ struct deleg_set set = DELEG_SET_INIT;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	assert_int_equal(deleg_compute(&n, 1, 2, 3, &set, &err), 0);
	struct grants g = GRANTS_INIT;
	assert_int_equal(grants_begin(&g, dir, 60000, 60000, &err), 0);
	assert_int_equal(grants_apply(&g, &set, grants_same_runner, &f, &err), 0);
	assert_int_equal(f.allow_not_journalled, 0);
	assert_true(strvec_find(&f.calls, "zfs allow -c create,mount,receive backup") >= 0);
	assert_true(strvec_find(&f.calls, "zfs allow -l -u 60000 create,mount,receive backup") >= 0);
	_cleanup_strbuf_ struct strbuf j = STRBUF_INIT;
	assert_int_equal(strbuf_read_file(&j, g.journal), 0);
	assert_non_null(strstr(j.buf, "zkeep-grants 2\n"));
	assert_non_null(strstr(j.buf, "txg\t-\tbackup\t5\ncreate\t-\tbackup\tcreate,mount,receive\n"));
	/*
	 * Revoke: the added part of the set first, then the uid's copies on what
	 * was made after txg 5 - unallow -r reaches one level down, so the new
	 * target (for kid too), its grandchild, and what the worker planted.
	 */
	size_t before = f.calls.n;
	assert_int_equal(grants_end(&g, grants_same_runner, &f, &err), 0);
	ssize_t uc = strvec_find(&f.calls, "zfs unallow -c create,mount,receive backup");
	ssize_t ur = strvec_find(&f.calls, "zfs unallow -r -u 60000 backup/new");
	assert_true(uc >= (ssize_t)before && ur > uc);
	assert_true(strvec_find(&f.calls, "zfs unallow -r -u 60000 backup/new/kid/g") > uc);
	assert_true(strvec_find(&f.calls, "zfs unallow -r -u 60000 backup/planted") > uc);
	assert_true(strvec_find(&f.calls, "zfs unallow -r -u 60000 backup/new/kid") < 0);
	assert_true(strvec_find(&f.calls, "zfs unallow -r -u 60000 backup/old") < 0);
	assert_true(strvec_find(&f.calls, "zfs unallow -u 60000 backup") >= 0);

	/* Nothing to add: the line is still there, for the copies' revoke. */
	f.allow_text = "---- Permissions on backup ----\nCreate time permissions:\n"
		       "\tcreate,destroy,mount,receive\n";
	strvec_release(&f.calls);
	assert_int_equal(grants_begin(&g, dir, 60000, 60000, &err), 0);
	assert_int_equal(grants_apply(&g, &set, grants_same_runner, &f, &err), 0);
	for (size_t i = 0; i < f.calls.n; i++)
		assert_null(strstr(f.calls.v[i], "allow -c"));
	assert_int_equal(grants_end(&g, grants_same_runner, &f, &err), 0);
	for (size_t i = 0; i < f.calls.n; i++)
		assert_null(strstr(f.calls.v[i], "unallow -c"));
	assert_true(strvec_find(&f.calls, "zfs unallow -r -u 60000 backup/new") >= 0);
	fake_free(&f.base);
	rm_state(dir);
}

static void test_delegation_off_is_a_plain_error(void **state)
{
	_cleanup_free_ char *dir = state_dir();
	struct fake f;
	fake_init(&f, dir);
	f.delegation = "off";
	_cleanup_deleg_set_ struct deleg_set set = DELEG_SET_INIT;
	make_set(&set);
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	struct grants g = GRANTS_INIT;
	assert_int_equal(grants_begin(&g, dir, 60000, 60009, &err), 0);
	assert_int_equal(grants_apply(&g, &set, grants_same_runner, &f, &err), -EPERM);
	assert_non_null(strstr(err.buf, "delegation=off"));
	assert_non_null(strstr(err.buf, "zpool set delegation=on backup"));
	for (size_t i = 0; i < f.calls.n; i++)
		assert_null(strstr(f.calls.v[i], "zfs allow"));
	assert_int_equal(grants_end(&g, grants_same_runner, &f, &err), 0);
	fake_free(&f.base);
	rm_state(dir);
}

static void test_crash_is_recovered(void **state)
{
	_cleanup_free_ char *dir = state_dir();
	struct fake f;
	fake_init(&f, dir);
	_cleanup_deleg_set_ struct deleg_set set = DELEG_SET_INIT;
	make_set(&set);
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;

	/* A run that dies after granting (its process exits without grants_end). */
	pid_t pid = fork();
	if (pid == 0) {
		struct grants g = GRANTS_INIT;
		if (grants_begin(&g, dir, 60000, 60009, &err) < 0 ||
		    grants_apply(&g, &set, grants_same_runner, &f, &err) < 0)
			_exit(1);
		_exit(0);
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_int_equal(WEXITSTATUS(st), 0);
	_cleanup_free_ char *journal = xasprintf("%s/grants/60000.journal", dir);
	assert_int_equal(access(journal, F_OK), 0);

	/* Its uid is not handed out again while the grants may exist. */
	struct grants live = GRANTS_INIT;
	assert_int_equal(grants_begin(&live, dir, 60000, 60009, &err), 0);
	assert_int_equal(live.uid, 60001);

	/* Recovery: the live run's journal is locked and left alone. */
	_cleanup_strvec_ struct strvec done = STRVEC_INIT;
	assert_int_equal(grants_recover(dir, false, grants_same_runner, &f, &done, NULL, &err), 0);
	assert_int_equal(done.n, 2);
	assert_true(strvec_find(&f.calls, "zfs unallow -u 60000 tank/data") >= 0);
	assert_true(strvec_find(&f.calls, "zfs unallow -u 60000 backup/data") >= 0);
	for (size_t i = 0; i < f.calls.n; i++)
		assert_null(strstr(f.calls.v[i], "unallow -u 60001"));
	assert_int_equal(access(journal, F_OK), -1);
	assert_int_equal(access(live.journal, F_OK), 0);
	assert_int_equal(grants_end(&live, grants_same_runner, &f, &err), 0);
	fake_free(&f.base);
	rm_state(dir);
}

static void test_failed_revoke_keeps_journal_and_uid(void **state)
{
	_cleanup_free_ char *dir = state_dir();
	struct fake f;
	fake_init(&f, dir);
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	struct grants g = GRANTS_INIT;
	granted_60000(&f, dir, &g);
	f.fail_unallow = true;
	assert_true(grants_end(&g, grants_same_runner, &f, &err) < 0);
	assert_non_null(strstr(err.buf, "suspended"));
	_cleanup_free_ char *journal = xasprintf("%s/grants/60000.journal", dir);
	assert_int_equal(access(journal, F_OK), 0);
	/* The only uid of the range still may hold grants: none to hand out. */
	strbuf_reset(&err);
	assert_int_equal(grants_begin(&g, dir, 60000, 60000, &err), -EAGAIN);
	assert_int_equal(grants_recover(dir, false, grants_same_runner, &f, NULL, NULL, &err), -EIO);
	assert_int_equal(access(journal, F_OK), 0);
	/* Once ZFS works again, recovery clears it. */
	f.fail_unallow = false;
	strbuf_reset(&err);
	assert_int_equal(grants_recover(dir, false, grants_same_runner, &f, NULL, NULL, &err), 0);
	assert_int_equal(access(journal, F_OK), -1);
	fake_free(&f.base);
	rm_state(dir);
}

static void test_vanished_dataset_counts_as_revoked(void **state)
{
	_cleanup_free_ char *dir = state_dir();
	struct fake f;
	fake_init(&f, dir);
	struct deleg_need n = { .dataset = "tank/gone", .exists = true, .ops = DELEG_SNAPSHOT };
	_cleanup_deleg_set_ struct deleg_set set = DELEG_SET_INIT;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	assert_int_equal(deleg_compute(&n, 1, 2, 3, &set, &err), 0);
	struct grants g = GRANTS_INIT;
	assert_int_equal(grants_begin(&g, dir, 60000, 60009, &err), 0);
	assert_int_equal(grants_apply(&g, &set, grants_same_runner, &f, &err), 0);
	assert_int_equal(grants_end(&g, grants_same_runner, &f, &err), 0);
	fake_free(&f.base);
	rm_state(dir);
}

/* A pool away (exported, or another pool of its name imported) keeps its grants journalled. */
static void test_exported_pool_stays_pending(void **state)
{
	_cleanup_free_ char *dir = state_dir();
	struct fake f;
	fake_init(&f, dir);
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	struct grants g = GRANTS_INIT;
	granted_60000(&f, dir, &g);
	f.exported = "backup";
	assert_int_equal(grants_end(&g, grants_same_runner, &f, &err), -ENXIO);
	assert_non_null(strstr(err.buf, "pool 'backup' is not imported"));
	assert_true(strvec_find(&f.calls, "zfs unallow -u 60000 tank/data") >= 0);
	assert_true(strvec_find(&f.calls, "zfs unallow -u 60000 backup/data") < 0);
	_cleanup_free_ char *journal = xasprintf("%s/grants/60000.journal", dir);
	assert_int_equal(access(journal, F_OK), 0);
	strbuf_reset(&err);
	assert_int_equal(grants_begin(&g, dir, 60000, 60000, &err), -EAGAIN);
	/* Pending is not an error of the recovery, but is listed. */
	_cleanup_strvec_ struct strvec pending = STRVEC_INIT;
	strbuf_reset(&err);
	assert_int_equal(grants_recover(dir, false, grants_same_runner, &f, NULL, &pending, &err), 0);
	assert_int_equal(pending.n, 1);
	assert_non_null(strstr(pending.v[0], "backup/data uid 60000"));
	assert_int_equal(access(journal, F_OK), 0);
	/* Another pool named backup (a rotated drive) is not the one granted on. */
	f.exported = NULL;
	f.guid = "999";
	strvec_release(&pending);
	assert_int_equal(grants_recover(dir, false, grants_same_runner, &f, NULL, &pending, &err), 0);
	assert_int_equal(pending.n, 2);
	assert_non_null(strstr(pending.v[0], "another pool"));
	assert_true(strvec_find(&f.calls, "zfs unallow -u 60000 backup/data") < 0);
	/* The pool is back: revoked, journal gone, uid free. */
	f.guid = "1234";
	strvec_release(&pending);
	assert_int_equal(grants_recover(dir, false, grants_same_runner, &f, NULL, &pending, &err), 0);
	assert_int_equal(pending.n, 0);
	assert_true(strvec_find(&f.calls, "zfs unallow -u 60000 backup/data") >= 0);
	assert_int_equal(access(journal, F_OK), -1);
	fake_free(&f.base);
	rm_state(dir);
}

static void test_systemd_job_journals(void **state)
{
	_cleanup_free_ char *dir = state_dir();
	struct fake f;
	fake_init(&f, dir);
	_cleanup_deleg_set_ struct deleg_set set = DELEG_SET_INIT;
	make_set(&set);
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	struct grants g = GRANTS_INIT;
	/* ExecStartPre: grant to the unit's uid, keep the journal. */
	assert_int_equal(grants_begin_job(&g, dir, "offsite", 60050, grants_same_runner, &f, &err), 0);
	assert_int_equal(grants_apply(&g, &set, grants_same_runner, &f, &err), 0);
	assert_int_equal(f.allow_not_journalled, 0);
	grants_detach(&g);
	_cleanup_free_ char *journal = xasprintf("%s/grants/job-offsite.60050.journal", dir);
	assert_int_equal(access(journal, F_OK), 0);
	/* Another run's recovery leaves a running job's grants alone. */
	assert_int_equal(grants_recover(dir, false, grants_same_runner, &f, NULL, NULL, &err), 0);
	assert_int_equal(access(journal, F_OK), 0);
	for (size_t i = 0; i < f.calls.n; i++)
		assert_null(strstr(f.calls.v[i], "unallow"));
	/* The next start of the job (its ExecStopPost never ran) revokes first. */
	assert_int_equal(grants_begin_job(&g, dir, "offsite", 60051, grants_same_runner, &f, &err), 0);
	assert_true(strvec_find(&f.calls, "zfs unallow -u 60050 tank/data") >= 0);
	assert_int_equal(access(journal, F_OK), -1);
	grants_detach(&g);
	/* ExecStopPost. A job whose name is a prefix of another is not touched. */
	struct grants o = GRANTS_INIT;
	assert_int_equal(grants_begin_job(&o, dir, "offsite2", 60052, grants_same_runner, &f, &err), 0);
	grants_detach(&o);
	_cleanup_strvec_ struct strvec done = STRVEC_INIT;
	assert_int_equal(grants_revoke_job(dir, "offsite", grants_same_runner, &f, &done, NULL, &err), 0);
	_cleanup_free_ char *j1 = xasprintf("%s/grants/job-offsite.60051.journal", dir);
	_cleanup_free_ char *j2 = xasprintf("%s/grants/job-offsite2.60052.journal", dir);
	assert_int_equal(access(j1, F_OK), -1);
	assert_int_equal(access(j2, F_OK), 0);
	/* At boot, --recover takes the job journals too. */
	assert_int_equal(grants_recover(dir, true, grants_same_runner, &f, NULL, NULL, &err), 0);
	assert_int_equal(access(j2, F_OK), -1);
	fake_free(&f.base);
	rm_state(dir);
}

/* Root's receive service finds the run's journal by the job's name alone. */
static void test_job_journal_lookup(void **state)
{
	_cleanup_free_ char *dir = state_dir();
	struct fake f;
	fake_init(&f, dir);
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	uid_t uid = 0;
	int fd = -1;
	struct grants g = GRANTS_INIT;
	/* no run: nothing to serve */
	assert_int_equal(grants_begin_job(&g, dir, "local2", 61700, grants_same_runner, &f, &err), 0);
	grants_detach(&g);
	assert_int_equal(grants_job_journal(dir, "local", &uid, &fd, &err), -ENOENT);
	/* --apply made it: its uid, and it opened for appending */
	assert_int_equal(grants_begin_job(&g, dir, "local", 61600, grants_same_runner, &f, &err), 0);
	grants_detach(&g);
	strbuf_reset(&err);
	assert_int_equal(grants_job_journal(dir, "local", &uid, &fd, &err), 0);
	assert_int_equal(uid, 61600);
	_cleanup_free_ char *path = xasprintf("%s/grants/job-local.61600.journal", dir);
	struct stat before, after;
	assert_int_equal(stat(path, &before), 0);
	assert_int_equal(write(fd, "x\n", 2), 2);
	assert_int_equal(stat(path, &after), 0);
	assert_int_equal(after.st_size, before.st_size + 2);
	close(fd);
	/* a name that only starts like the job's is another job's */
	assert_int_equal(grants_job_journal(dir, "loc", &uid, &fd, &err), -ENOENT);
	/* two journals of one job: which run is live is unknown, so none is served */
	_cleanup_free_ char *other = xasprintf("%s/grants/job-local.61601.journal", dir);
	int o = open(other, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(o >= 0);
	close(o);
	assert_int_equal(grants_job_journal(dir, "local", &uid, &fd, &err), -EEXIST);
	fake_free(&f.base);
	rm_state(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_apply_and_end),
		cmocka_unit_test(test_create_time_grant),
		cmocka_unit_test(test_delegation_off_is_a_plain_error),
		cmocka_unit_test(test_crash_is_recovered),
		cmocka_unit_test(test_exported_pool_stays_pending),
		cmocka_unit_test(test_failed_revoke_keeps_journal_and_uid),
		cmocka_unit_test(test_vanished_dataset_counts_as_revoked),
		cmocka_unit_test(test_systemd_job_journals),
		cmocka_unit_test(test_job_journal_lookup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
