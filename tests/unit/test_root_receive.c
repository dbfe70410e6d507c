/*
 * test_root_receive.c - root runs the worker's zfs receive (zfs/root_receive.h,
 * zfs/root_request.h; which target a request is for: cli/root_receives.h).
 */
#include "unit.h"
#include "zfs/root_receive.h"
#include "zfs/root_request.h"
#include "cli/root_receives.h"

#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>

static const char *const job_props[] = { "compression", "setuid", "devices", "sharenfs",
					 "sharesmb", "zoned", "exec", "volmode", NULL };
static const struct root_recv_policy job = {
	.target = "backup/data", .recursive = true, .force = false, .props = job_props,
};

#define FS_QUARANTINE "-o", "setuid=off", "-o", "devices=off", "-o", "sharenfs=off", "-o", \
		      "sharesmb=off", "-x", "zoned", "-x", "exec"

static int check(const struct root_recv_policy *p, const char *const *argv, char **run)
{
	_cleanup_strvec_ struct strvec out = STRVEC_INIT;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	int r = root_recv_check(p, argv, &out, &err);
	if (r == 0) {
		assert_int_equal(err.len, 0);
		if (run)
			*run = strvec_join(&out, " ");
	} else {
		assert_true(err.len > 0);
		assert_int_equal(out.n, 0);
	}
	return r;
}

static void test_allowed(void **state)
{
	_cleanup_free_ char *a = NULL, *b = NULL, *c = NULL;
	const char *const fs[] = { "zfs", "receive", "-su", FS_QUARANTINE, "backup/data", NULL };
	assert_int_equal(check(&job, fs, &a), 0);
	/* a stream's mountpoint is not received: root adds -x mountpoint */
	assert_string_equal(a, "zfs receive -su -o setuid=off -o devices=off -o sharenfs=off "
			       "-o sharesmb=off -x zoned -x exec -x mountpoint -x canmount "
			       "-x quota -x refquota -x reservation -x refreservation "
			       "-x checksum -x sync backup/data");
	/* a volume: volmode=none, no -x mountpoint (it does not apply) */
	const char *const vol[] = { "zfs", "receive", "-u", "-o", "volmode=none",
				    "backup/data/vol", NULL };
	assert_int_equal(check(&job, vol, &b), 0);
	assert_string_equal(b, "zfs receive -u -o volmode=none -x reservation -x refreservation "
			       "-x checksum -x sync backup/data/vol");
	/* a property the job sets, and an exclusion of any property */
	const char *const props[] = { "zfs", "receive", "-uv", "-o", "compression=zstd", "-x",
				      "atime", FS_QUARANTINE, "backup/data/a/b", NULL };
	assert_int_equal(check(&job, props, &c), 0);
	/* what the request names or the job sets is not excluded again */
	const char *const quota_props[] = { "quota", "setuid", "devices", "sharenfs", "sharesmb",
					    "zoned", "exec", NULL };
	struct root_recv_policy q = job;
	q.props = quota_props;
	const char *const named[] = { "zfs", "receive", "-u", "-o", "quota=1G", "-x", "sync",
				      FS_QUARANTINE, "backup/data", NULL };
	_cleanup_free_ char *d = NULL;
	assert_int_equal(check(&q, named, &d), 0);
	assert_string_equal(d, "zfs receive -u -o quota=1G -x sync -o setuid=off -o devices=off "
			       "-o sharenfs=off -o sharesmb=off -x zoned -x exec -x mountpoint "
			       "-x canmount -x refquota -x reservation -x refreservation "
			       "-x checksum backup/data");
}

static void test_refused(void **state)
{
	/* another dataset, a sibling whose name starts like the target, the parent */
	const char *const other[] = { "zfs", "receive", "-u", FS_QUARANTINE, "tank/etc", NULL };
	assert_int_equal(check(&job, other, NULL), -EPERM);
	const char *const sib[] = { "zfs", "receive", "-u", FS_QUARANTINE, "backup/data2", NULL };
	assert_int_equal(check(&job, sib, NULL), -EPERM);
	const char *const parent[] = { "zfs", "receive", "-u", FS_QUARANTINE, "backup", NULL };
	assert_int_equal(check(&job, parent, NULL), -EPERM);
	/* below the target only when the job is recursive */
	struct root_recv_policy flat = job;
	flat.recursive = false;
	const char *const child[] = { "zfs", "receive", "-u", FS_QUARANTINE, "backup/data/c",
				      NULL };
	assert_int_equal(check(&flat, child, NULL), -EPERM);
	/* -F without the job's rollback, -d, no -u */
	const char *const force[] = { "zfs", "receive", "-uF", FS_QUARANTINE, "backup/data", NULL };
	assert_int_equal(check(&job, force, NULL), -EPERM);
	flat.force = true;
	assert_int_equal(check(&flat, force, NULL), 0);
	const char *const d[] = { "zfs", "receive", "-ud", FS_QUARANTINE, "backup/data", NULL };
	assert_int_equal(check(&job, d, NULL), -EPERM);
	const char *const mounts[] = { "zfs", "receive", "-s", FS_QUARANTINE, "backup/data", NULL };
	assert_int_equal(check(&job, mounts, NULL), -EPERM);
	/* the quarantine weakened, or missing */
	const char *const weak[] = { "zfs", "receive", "-u", "-o", "setuid=on", "-o", "devices=off",
				     "-o", "sharenfs=off", "-o", "sharesmb=off", "-x", "zoned",
				     "-x", "exec", "backup/data", NULL };
	assert_int_equal(check(&job, weak, NULL), -EPERM);
	const char *const none[] = { "zfs", "receive", "-u", "backup/data", NULL };
	assert_int_equal(check(&job, none, NULL), -EPERM);
	const char *const xsetuid[] = { "zfs", "receive", "-u", "-x", "setuid", FS_QUARANTINE,
					"backup/data", NULL };
	assert_int_equal(check(&job, xsetuid, NULL), -EPERM);
	/* a property the job does not set; a name that is not exact */
	const char *const quota[] = { "zfs", "receive", "-u", "-o", "quota=1k", FS_QUARANTINE,
				      "backup/data", NULL };
	assert_int_equal(check(&job, quota, NULL), -EPERM);
	const char *const mp[] = { "zfs", "receive", "-u", "-o", "mountpoint=/etc/cron.d",
				   FS_QUARANTINE, "backup/data", NULL };
	assert_int_equal(check(&job, mp, NULL), -EPERM);
	const char *const odd[] = { "zfs", "receive", "-u", "-o", "Setuid=on", FS_QUARANTINE,
				    "backup/data", NULL };
	assert_int_equal(check(&job, odd, NULL), -EPERM);
	/* not a receive, a stray word, a -o at the end, a snapshot name */
	const char *const destroy[] = { "zfs", "destroy", "-r", "backup/data", NULL };
	assert_int_equal(check(&job, destroy, NULL), -EPERM);
	const char *const stray[] = { "zfs", "receive", "-u", "tank/x", FS_QUARANTINE,
				      "backup/data", NULL };
	assert_int_equal(check(&job, stray, NULL), -EPERM);
	const char *const last[] = { "zfs", "receive", "-u", FS_QUARANTINE, "-o", NULL };
	assert_int_equal(check(&job, last, NULL), -EPERM);
	const char *const snap[] = { "zfs", "receive", "-u", FS_QUARANTINE, "backup/data@x", NULL };
	assert_int_equal(check(&job, snap, NULL), -EPERM);
}

/* The operator's own --recvoptions word stands for an override. */
static void test_operator_keep(void **state)
{
	const char *const keep[] = { "exec=on", NULL };
	struct root_recv_policy p = job;
	p.keep = keep;
	const char *const argv[] = { "zfs", "receive", "-u", "-o", "exec=on", "-o", "setuid=off",
				     "-o", "devices=off", "-o", "sharenfs=off", "-o",
				     "sharesmb=off", "-x", "zoned", "backup/data", NULL };
	assert_int_equal(check(&p, argv, NULL), 0);
	assert_int_equal(check(&job, argv, NULL), -EPERM);
}

static void test_encode_decode(void **state)
{
	const char *const argv[] = { "zfs", "receive", "-u", "backup/data", NULL };
	_cleanup_strbuf_ struct strbuf msg = STRBUF_INIT;
	assert_int_equal(root_recv_encode(argv, &msg), 0);
	assert_string_equal(msg.buf, "receive\nzfs\nreceive\n-u\nbackup/data");
	_cleanup_strvec_ struct strvec back = STRVEC_INIT, bad = STRVEC_INIT;
	assert_int_equal(root_recv_decode(msg.buf, &back), 0);
	assert_int_equal(back.n, 4);
	assert_string_equal(back.v[3], "backup/data");
	assert_int_equal(root_recv_decode("receive\nzfs\n\nreceive", &bad), -EINVAL);
	assert_int_equal(root_recv_decode("unmount backup/data", &bad), -EINVAL);
	const char *const nl[] = { "zfs", "receive", "-o", "a:b=x\ny", "backup/data", NULL };
	strbuf_reset(&msg);
	assert_int_equal(root_recv_encode(nl, &msg), -EINVAL);
}

/*
 * The plumbing, with sh for zfs: the worker's side starts a child that
 * stands for the receive; "root" (this process) takes the request and its
 * descriptors off the channel and runs the command; the child ends with the
 * command's status, and its stderr is in the worker's file.
 */
/* In the keeper: write through a descriptor root kept for it, and say why it fails. */
static int after_receive(void *ctx, int err_fd)
{
	if (write(*(int *)ctx, "kept", 4) != 4 || dprintf(err_fd, "after said no\n") < 0)
		return 9;
	return 4;
}

/*
 * Empty the stderr file, start argv through chan[1] and take root's side:
 * the request decoded into got (unless NULL), its three descriptors in fds.
 */
static void next_request(const int chan[2], const char *const *argv, int errfd, struct child *c,
			 int fds[ROOT_RECV_NFDS], struct strvec *got)
{
	char buf[ROOT_RECV_MAX + 1];
	union {
		char space[CMSG_SPACE(sizeof(int) * ROOT_RECV_NFDS)];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) - 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.space,
			     .msg_controllen = sizeof(u.space) };
	assert_int_equal(ftruncate(errfd, 0), 0);
	assert_int_equal(lseek(errfd, 0, SEEK_SET), 0);
	assert_int_equal(root_recv_start(chan[1], argv, SPAWN_PIPE, SPAWN_NULL, errfd, c), 0);
	ssize_t n = recvmsg(chan[0], &mh, MSG_CMSG_CLOEXEC);
	assert_true(n > 0);
	buf[n] = '\0';
	if (got)
		assert_int_equal(root_recv_decode(buf, got), 0);
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	if (!cm) {
		fail_msg("no descriptors came with the request");
		return;
	}
	assert_int_equal(cm->cmsg_len, CMSG_LEN(sizeof(int) * ROOT_RECV_NFDS));
	memcpy(fds, CMSG_DATA(cm), sizeof(int) * ROOT_RECV_NFDS);
}

static void test_plumbing(void **state)
{
	int chan[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, chan), 0);
	int errfd = memfd_create("err", MFD_CLOEXEC);
	assert_true(errfd >= 0);
	const char *const argv[] = { "zfs", "receive", "-u", "backup/data", NULL };
	struct child c;
	int fds[ROOT_RECV_NFDS];
	_cleanup_strvec_ struct strvec got = STRVEC_INIT;
	next_request(chan, argv, errfd, &c, fds, &got);
	assert_true(c.in >= 0);
	assert_string_equal(got.v[3], "backup/data");

	const char *const run[] = { "/bin/sh", "-c", "wc -c >&2; exit 3", NULL };
	_cleanup_strvec_ struct strvec env = STRVEC_INIT;
	spawn_env_default(&env);
	pid_t keeper;
	assert_int_equal(root_recv_run(run, (const char *const *)env.v, fds[0], fds[1], fds[2],
				       NULL, &keeper), 0);
	for (size_t i = 0; i < ROOT_RECV_NFDS; i++)
		close(fds[i]);
	assert_int_equal(write(c.in, "stream", 6), 6);
	close(c.in);
	c.in = -1;
	int st;
	assert_int_equal(spawn_wait(&c, &st), 0);
	assert_int_equal(spawn_exit_code(st), 3);
	assert_int_equal(waitpid(keeper, &st, 0), keeper);
	char out[64] = { 0 };
	assert_true(pread(errfd, out, sizeof(out) - 1, 0) > 0);
	assert_string_equal(out, "6\n");

	/* a refusal: the child ends with 1 and says why in the stderr file */
	next_request(chan, argv, errfd, &c, fds, NULL);
	assert_true(send(fds[0], "refused not today", 17, 0) == 17);
	for (size_t i = 0; i < ROOT_RECV_NFDS; i++)
		close(fds[i]);
	close(c.in);
	c.in = -1;
	assert_int_equal(spawn_wait(&c, &st), 0);
	assert_int_equal(spawn_exit_code(st), 1);
	memset(out, 0, sizeof(out));
	assert_true(pread(errfd, out, sizeof(out) - 1, 0) > 0);
	assert_string_equal(out, "zkeep: root refused to run this receive: not today\n");

	/* after a receive that succeeded: after's code is the answer, its fd kept open */
	next_request(chan, argv, errfd, &c, fds, NULL);
	int kept[2];
	assert_int_equal(pipe(kept), 0);
	const char *const ok[] = { "/bin/sh", "-c", "cat >/dev/null", NULL };
	struct root_recv_after after = { .fn = after_receive, .ctx = &kept[1], .keep = &kept[1],
					 .nkeep = 1 };
	assert_int_equal(root_recv_run(ok, (const char *const *)env.v, fds[0], fds[1], fds[2],
				       &after, &keeper), 0);
	for (size_t i = 0; i < ROOT_RECV_NFDS; i++)
		close(fds[i]);
	close(kept[1]);
	close(c.in);
	c.in = -1;
	assert_int_equal(spawn_wait(&c, &st), 0);
	assert_int_equal(spawn_exit_code(st), 4);
	assert_int_equal(waitpid(keeper, &st, 0), keeper);
	memset(out, 0, sizeof(out));
	assert_true(read(kept[0], out, sizeof(out) - 1) == 4);
	assert_string_equal(out, "kept");
	close(kept[0]);
	memset(out, 0, sizeof(out));
	assert_true(pread(errfd, out, sizeof(out) - 1, 0) > 0);
	assert_string_equal(out, "after said no\n");
	close(errfd);
	close(chan[0]);
	close(chan[1]);
}

/* Which of a job's targets (a drive's: several) a receive is for. */
static void test_target_choice(void **state)
{
	struct root_receives rr;
	root_receives_init(&rr, NULL, NULL);
	const struct root_recv_policy p[] = {
		{ .target = "usb/src/a", .recursive = true },
		{ .target = "usb/src/a/b", .recursive = false },
		{ .target = "usb/src/a/b/d", .recursive = true },
		{ .target = "usb/src/c", .recursive = false },
	};
	for (size_t i = 0; i < ARRAY_SIZE(p); i++)
		root_receives_add(&rr, &p[i], NULL);
	static const struct {
		const char *name, *target; /* NULL: none */
	} cases[] = {
		{ "usb/src/a", "usb/src/a" },
		{ "usb/src/a/x", "usb/src/a" },
		{ "usb/src/a/b", "usb/src/a/b" },       /* itself before a recursive parent */
		{ "usb/src/a/b/x", "usb/src/a" },       /* a/b is not recursive */
		{ "usb/src/a/b/d/e", "usb/src/a/b/d" }, /* the deepest */
		{ "usb/src/ab", NULL },                 /* a prefix is not below */
		{ "usb/src/c/x", NULL },
		{ "usb/src", NULL },
		{ "", NULL },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct root_target *t = root_receives_target(&rr, cases[i].name);
		if (!cases[i].target)
			assert_null(t);
		else if (!t)
			fail_msg("no target for %s", cases[i].name);
		else
			assert_string_equal(t->policy.target, cases[i].target);
	}
	root_receives_release(&rr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_allowed),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_operator_keep),
		cmocka_unit_test(test_encode_decode),
		cmocka_unit_test(test_plumbing),
		cmocka_unit_test(test_target_choice),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
