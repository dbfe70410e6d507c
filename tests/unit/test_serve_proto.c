#include "unit.h"
#include "replication/serve_proto.h"

static void test_header_round_trip_and_limits(void **state)
{
	uint8_t h[SERVE_HDR_LEN];
	enum serve_frame_type t;
	uint32_t len;
	serve_put_header(h, SERVE_STDIN, 0x010203);
	assert_int_equal(h[0], 'I');
	assert_int_equal(h[1], 0);
	assert_int_equal(h[2], 1);
	assert_int_equal(h[3], 2);
	assert_int_equal(h[4], 3);
	assert_int_equal(serve_parse_header(h, &t, &len), 0);
	assert_int_equal(t, SERVE_STDIN);
	assert_int_equal(len, 0x010203);
	serve_put_header(h, SERVE_STDOUT, SERVE_FRAME_MAX);
	assert_int_equal(serve_parse_header(h, &t, &len), 0);
	serve_put_header(h, SERVE_STDOUT, SERVE_FRAME_MAX + 1);
	assert_int_equal(serve_parse_header(h, &t, &len), -EBADMSG);
	serve_put_header(h, SERVE_REQUEST, SERVE_REQUEST_MAX + 1);
	assert_int_equal(serve_parse_header(h, &t, &len), -EBADMSG);
	serve_put_header(h, SERVE_EXIT, 3);
	assert_int_equal(serve_parse_header(h, &t, &len), -EBADMSG);
	serve_put_header(h, SERVE_EXIT, 4);
	assert_int_equal(serve_parse_header(h, &t, &len), 0);
	h[0] = 'Z';
	assert_int_equal(serve_parse_header(h, &t, &len), -EBADMSG);
}

static void test_request_round_trip(void **state)
{
	const char *const argv[] = { "zfs", "receive", "-o", "a:b=c d", "backup/h1/x y", "", NULL };
	_cleanup_strbuf_ struct strbuf sb = STRBUF_INIT, err = STRBUF_INIT;
	assert_int_equal(serve_encode_request(&sb, argv), 0);
	_cleanup_strvec_ struct strvec out = STRVEC_INIT;
	assert_int_equal(serve_decode_request(sb.buf, sb.len, &out, &err), 0);
	assert_int_equal(out.n, 6);
	for (size_t i = 0; i < 6; i++)
		assert_string_equal(out.v[i], argv[i]);
}

static void test_request_malformed(void **state)
{
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	_cleanup_strvec_ struct strvec out = STRVEC_INIT;
	static const char no_nul[] = "zkeep-serve-1\0zfs";
	assert_int_equal(serve_decode_request(no_nul, sizeof(no_nul) - 1, &out, &err), -EBADMSG);
	static const char v2[] = "zkeep-serve-2\0zfs\0list\0";
	assert_int_equal(serve_decode_request(v2, sizeof(v2) - 1, &out, &err), -EPROTO);
	assert_non_null(strstr(err.buf, "zkeep-serve-2"));
	static const char empty[] = "zkeep-serve-1\0";
	assert_int_equal(serve_decode_request(empty, sizeof(empty) - 1, &out, &err), -EBADMSG);
	static const char emptyprog[] = "zkeep-serve-1\0\0list\0";
	assert_int_equal(serve_decode_request(emptyprog, sizeof(emptyprog) - 1, &out, &err), -EBADMSG);
	assert_int_equal(serve_decode_request("", 0, &out, &err), -EBADMSG);
	/* too many words */
	_cleanup_strbuf_ struct strbuf many = STRBUF_INIT;
	strbuf_add(&many, SERVE_VERSION, sizeof(SERVE_VERSION));
	for (int i = 0; i < SERVE_MAX_WORDS + 5; i++)
		strbuf_add(&many, "w", 2);
	assert_int_equal(serve_decode_request(many.buf, many.len, &out, &err), -EBADMSG);
	assert_int_equal(out.n, 0);
	const char *const none[] = { NULL };
	_cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
	assert_int_equal(serve_encode_request(&sb, none), -EINVAL);
	assert_int_equal(sb.len, 0);
}

static void test_stream_options(void **state)
{
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	struct pump_codec in, out;
	_cleanup_strvec_ struct strvec v = STRVEC_INIT;
	strvec_pushv(&v, (const char *const[]){ "codec-in=zstd-19", "zfs", "receive", "b/x", NULL });
	assert_int_equal(serve_take_options(&v, &in, &out, &err), 0);
	assert_int_equal(in.kind, PUMP_CODEC_ZSTD);
	assert_int_equal(in.level, 19);
	assert_int_equal(out.kind, PUMP_CODEC_NONE);
	assert_int_equal(v.n, 3);
	assert_string_equal(v.v[0], "zfs");
	strvec_release(&v);
	strvec_pushv(&v, (const char *const[]){ "codec-out=lz4", "zfs", "send", "t/d@s", NULL });
	assert_int_equal(serve_take_options(&v, &in, &out, &err), 0);
	assert_int_equal(out.kind, PUMP_CODEC_LZ4);
	assert_int_equal(in.kind, PUMP_CODEC_NONE);
	assert_string_equal(v.v[0], "zfs");
	/* no options: untouched */
	assert_int_equal(serve_take_options(&v, &in, &out, &err), 0);
	assert_int_equal(v.n, 3);
	static const char *const bad[][3] = {
		{ "codec-in=zstd-20", "zfs", NULL }, { "codec-in=gzip", "zfs", NULL },
		{ "codec-in=zstd-3", "codec-in=lz4", NULL }, { "codec-out=zstd-", "zfs", NULL },
		{ "codec-out=lz4", NULL, NULL },
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		strvec_release(&v);
		strvec_pushv(&v, bad[i]);
		strbuf_reset(&err);
		assert_int_equal(serve_take_options(&v, &in, &out, &err), -EBADMSG);
		assert_true(err.len > 0);
	}
	/* the spec round-trips */
	struct pump_codec c = { PUMP_CODEC_ZSTD, 7, 2 };
	_cleanup_strbuf_ struct strbuf spec = STRBUF_INIT;
	serve_codec_spec(&c, &spec);
	assert_string_equal(spec.buf, "zstd-7");
}

static void test_name_in_root(void **state)
{
	assert_true(serve_name_in_root("backup/host1", "backup/host1"));
	assert_true(serve_name_in_root("backup/host1/a", "backup/host1"));
	assert_true(serve_name_in_root("backup/host1@s", "backup/host1"));
	assert_true(serve_name_in_root("backup/host1/a#b", "backup/host1"));
	assert_false(serve_name_in_root("backup/host10", "backup/host1"));
	assert_false(serve_name_in_root("backup/host10@s", "backup/host1"));
	assert_false(serve_name_in_root("backup", "backup/host1"));
	assert_false(serve_name_in_root("other/host1", "backup/host1"));
}

static struct serve_policy pol;

static int setup(void **state)
{
	pol = (struct serve_policy)SERVE_POLICY_INIT;
	strvec_push(&pol.receive_roots, "backup/host1");
	strvec_push(&pol.send_roots, "tank/data");
	return 0;
}

static int teardown(void **state)
{
	serve_policy_release(&pol);
	return 0;
}

#define ARGV(...) ((const char *const[]){ __VA_ARGS__, NULL })

static void allowed(const char *const *argv)
{
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	int r = serve_policy_check(&pol, argv, &err);
	if (r != 0) {
		_cleanup_strvec_ struct strvec v = STRVEC_INIT;
		strvec_pushv(&v, argv);
		_cleanup_free_ char *j = strvec_join(&v, " ");
		print_error("refused: %s: %s\n", j, err.buf);
	}
	assert_int_equal(r, 0);
}

static void refused(const char *const *argv, const char *why)
{
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	int r = serve_policy_check(&pol, argv, &err);
	if (r != -EPERM) {
		_cleanup_strvec_ struct strvec v = STRVEC_INIT;
		strvec_pushv(&v, argv);
		_cleanup_free_ char *j = strvec_join(&v, " ");
		print_error("allowed: %s\n", j);
	}
	assert_int_equal(r, -EPERM);
	if (!strstr(err.buf, why))
		print_error("message '%s' lacks '%s'\n", err.buf, why);
	assert_non_null(strstr(err.buf, why));
}

static void test_policy_allows_replication(void **state)
{
	/* what the engine does on a receiving side */
	allowed(ARGV("zfs", "list", "-Hp", "-r", "-t", "filesystem,volume,snapshot,bookmark", "-o",
		     "name,type,guid,createtxg,creation", "backup/host1/data"));
	allowed(ARGV("zfs", "list", "-Hp", "-o", "name", "backup")); /* an ancestor, not recursive */
	allowed(ARGV("zfs", "get", "-Hp", "-o", "name,property,value,source", "receive_resume_token",
		     "backup/host1/data"));
	allowed(ARGV("zfs", "receive", "-s", "-F", "backup/host1/data"));
	allowed(ARGV("zfs", "recv", "-s", "-u", "-o", "canmount=noauto", "-x", "encryption",
		     "-o", "com.sun:auto-snapshot=false", "backup/host1/data with space"));
	allowed(ARGV("zfs", "receive", "-A", "backup/host1/data"));
	allowed(ARGV("zfs", "destroy", "backup/host1/data@a,b,c"));
	allowed(ARGV("zfs", "destroy", "-r", "backup/host1/old"));
	allowed(ARGV("zfs", "rollback", "-r", "backup/host1/data@a"));
	allowed(ARGV("zfs", "hold", "syncoid_h", "backup/host1/data@a"));
	allowed(ARGV("zfs", "release", "syncoid_h", "backup/host1/data@a"));
	allowed(ARGV("zpool", "get", "-Hp", "-o", "value", "feature@extensible_dataset", "backup"));
	allowed(ARGV("zfs", "version"));
	/* and on a sending side */
	allowed(ARGV("zfs", "send", "-w", "-I", "@a", "tank/data@b"));
	allowed(ARGV("zfs", "send", "-L", "-c", "-e", "-i", "tank/data#mark", "tank/data@b"));
	allowed(ARGV("zfs", "send", "-nvP", "-R", "tank/data/sub@b"));
	allowed(ARGV("zfs", "snapshot", "tank/data@syncoid_h_2026-11-22_10:00:00-GMT00:00"));
	allowed(ARGV("zfs", "bookmark", "tank/data@b", "tank/data#b"));
	allowed(ARGV("zfs", "destroy", "tank/data@syncoid_h_2026-11-22_10:00:00-GMT00:00"));
	allowed(ARGV("zfs", "destroy", "tank/data#b"));
}

static void test_policy_refuses_everything_else(void **state)
{
	/* outside the trees, prefix tricks, escapes */
	refused(ARGV("zfs", "receive", "-F", "backup/host2/data"), "outside");
	refused(ARGV("zfs", "receive", "-F", "backup/host10"), "outside");
	refused(ARGV("zfs", "receive", "-F", "backup/host1/../host2"), "not a valid");
	refused(ARGV("zfs", "receive", "-F", "backup/host1/./x"), "not a valid");
	refused(ARGV("zfs", "receive", "-F", "backup//host1"), "not a valid");
	refused(ARGV("zfs", "receive", "-F", "tank/data"), "outside"); /* a send root */
	refused(ARGV("zfs", "receive", "-F", "otherpool/x"), "outside");
	refused(ARGV("zfs", "list", "-r", "backup"), "outside");  /* recursive from an ancestor */
	refused(ARGV("zfs", "list", "-d", "1", "backup"), "outside");
	/* an ancestor's snapshots and bookmarks carry guids a forged resume token could name */
	refused(ARGV("zfs", "list", "-H", "-o", "name,guid", "-t", "snapshot", "backup"), "ancestor");
	refused(ARGV("zfs", "list", "-t", "bookmark", "backup"), "ancestor");
	refused(ARGV("zfs", "list", "-t", "all", "backup"), "ancestor");
	refused(ARGV("zfs", "list", "-t", "filesystem,snap", "backup"), "ancestor");
	refused(ARGV("zfs", "list", "-t", "", "backup"), "ancestor");
	refused(ARGV("zfs", "get", "-t", "snapshot", "guid", "backup"), "ancestor");
	refused(ARGV("zfs", "get", "-tbookmark", "guid", "tank"), "ancestor");
	allowed(ARGV("zfs", "list", "-H", "-t", "filesystem,volume", "-o", "name,guid", "backup"));
	allowed(ARGV("zfs", "list", "-t", "snapshot", "-r", "tank/data")); /* inside: anything */
	refused(ARGV("zfs", "list", "-H"), "operands");           /* everything */
	refused(ARGV("zfs", "get", "all", "rpool"), "outside");
	/* the root itself is never destroyed; nothing outside */
	refused(ARGV("zfs", "destroy", "-r", "backup/host1"), "never destroyed");
	refused(ARGV("zfs", "destroy", "backup/host2@a"), "outside");
	refused(ARGV("zfs", "destroy", "backup/host1/data@a,../../x"), "not a valid");
	refused(ARGV("zfs", "destroy", "-R", "backup/host1/data@a"), "-R");
	refused(ARGV("zfs", "destroy", "tank/data"), "outside");
	refused(ARGV("zfs", "destroy", "tank/data@daily"), "sync snapshots");
	refused(ARGV("zfs", "destroy", "tank/data@syncoid_h_2026-11-22_10:00:00-GMT00:00%x"), "sync snapshots");
	refused(ARGV("zfs", "rollback", "-R", "backup/host1/data@a"), "-R");
	refused(ARGV("zfs", "rollback", "tank/data@a"), "outside");
	/* sending only from the send root */
	refused(ARGV("zfs", "send", "backup/host1/data@a"), "outside");
	refused(ARGV("zfs", "send", "-i", "rpool/secret@a", "tank/data@b"), "outside");
	refused(ARGV("zfs", "send", "-X", "rpool/x", "-R", "tank/data@b"), "outside");
	refused(ARGV("zfs", "send", "tank/data"), "not a snapshot");
	refused(ARGV("zfs", "send", "-D", "tank/data@a"), "-D");
	/* receive options that would mount elsewhere */
	refused(ARGV("zfs", "receive", "-o", "mountpoint=/etc", "backup/host1/x"), "mountpoint");
	refused(ARGV("zfs", "receive", "-omountpoint=/etc", "backup/host1/x"), "mountpoint");
	refused(ARGV("zfs", "receive", "-uo", "mountpoint=/etc", "backup/host1/x"), "mountpoint");
	refused(ARGV("zfs", "receive", "-o", "canmount=on", "backup/host1/x"), "canmount");
	refused(ARGV("zfs", "receive", "-o", "sharenfs=on", "backup/host1/x"), "sharenfs");
	/* the quarantine: a client may repeat it, never weaken it */
	refused(ARGV("zfs", "receive", "-o", "setuid=on", "backup/host1/x"), "-o setuid");
	refused(ARGV("zfs", "receive", "-x", "setuid", "backup/host1/x"), "-x setuid");
	refused(ARGV("zfs", "receive", "-odevices=on", "backup/host1/x"), "-o devices");
	refused(ARGV("zfs", "receive", "-o", "volmode=full", "backup/host1/x"), "-o volmode");
	refused(ARGV("zfs", "receive", "-o", "zoned=on", "backup/host1/x"), "-o zoned");
	refused(ARGV("zfs", "receive", "-o", "origin=rpool/secret@a", "backup/host1/x"), "origin");
	refused(ARGV("zfs", "receive", "-x", "mountpoint", "-o", "setuid=on", "backup/host1/x"),
		"-o setuid");
	allowed(ARGV("zfs", "receive", "-o", "setuid=off", "-x", "mountpoint", "backup/host1/x"));
	/* options after operands (glibc getopt would permute them) */
	refused(ARGV("zfs", "receive", "backup/host1/x", "-o", "mountpoint=/"), "exactly one");
	refused(ARGV("zfs", "list", "backup/host1", "-r"), "after the operands");
	/* other commands and programs */
	refused(ARGV("zfs", "set", "mountpoint=/etc", "backup/host1/x"), "not a request");
	refused(ARGV("zfs", "allow", "backup/host1"), "not a request");
	refused(ARGV("zfs", "mount", "backup/host1/x"), "not a request");
	refused(ARGV("zfs", "program", "backup", "x.lua"), "not a request");
	refused(ARGV("zpool", "destroy", "backup"), "not a request");
	refused(ARGV("zpool", "get", "-Hp", "-o", "value", "guid", "rpool"), "outside");
	refused(ARGV("zpool", "list", "-Hp"), "operands");
	refused(ARGV("sh", "-c", "id"), "only zfs and zpool");
	refused(ARGV("/sbin/zfs", "list", "backup/host1"), "only zfs and zpool");
	refused(ARGV("zfs"), "empty");
	refused(ARGV("zfs", "list", "backup/host1\nrpool"), "newline");
}

/* serve_harden_receive(argv) as one string */
static void hardened(const char *const *argv, enum zfs_type type, const char *want)
{
	_cleanup_strvec_ struct strvec v = STRVEC_INIT;
	strvec_pushv(&v, argv);
	serve_harden_receive(&v, type);
	_cleanup_strbuf_ struct strbuf got = STRBUF_INIT;
	for (size_t i = 0; i < v.n; i++)
		strbuf_addf(&got, "%s%s", i ? " " : "", v.v[i]);
	if (!streq(got.buf, want))
		fail_msg("got  %s\nwant %s", got.buf, want);
}

/* Every receive is quarantined, whatever words merely contain a property's name. */
static void test_harden_receive(void **state)
{
	const char *q = "-u -o setuid=off -o devices=off -o sharenfs=off -o sharesmb=off "
			"-x zoned -x exec -x mountpoint";
	_cleanup_free_ char *w1 = xasprintf("zfs receive %s -ocom.x:mountpoint=1 b/h/x", q);
	hardened(ARGV("zfs", "receive", "-ocom.x:mountpoint=1", "b/h/x"), ZFS_TYPE_FILESYSTEM, w1);
	_cleanup_free_ char *w2 = xasprintf("zfs receive %s -x a:mountpoint b/h/x", q);
	hardened(ARGV("zfs", "receive", "-x", "a:mountpoint", "b/h/x"), ZFS_TYPE_FILESYSTEM, w2);
	_cleanup_free_ char *w3 = xasprintf("zfs receive %s -s b/mountpoint", q);
	hardened(ARGV("zfs", "receive", "-s", "b/mountpoint"), ZFS_TYPE_FILESYSTEM, w3);
	/* what the client repeated is not added twice */
	hardened(ARGV("zfs", "receive", "-o", "setuid=off", "-xmountpoint", "b/h/x"),
		 ZFS_TYPE_FILESYSTEM,
		 "zfs receive -u -o devices=off -o sharenfs=off -o sharesmb=off -x zoned -x exec -o "
		 "setuid=off -xmountpoint b/h/x");
	hardened(ARGV("zfs", "receive", "-F", "b/h/vol"), ZFS_TYPE_VOLUME,
		 "zfs receive -u -o volmode=none -F b/h/vol");
	hardened(ARGV("zfs", "receive", "-A", "b/h/x"), ZFS_TYPE_FILESYSTEM,
		 "zfs receive -A b/h/x");
}

static void test_send_token_needs_check(void **state)
{
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	assert_int_equal(serve_policy_check(&pol, ARGV("zfs", "send", "-v", "-t", "1-abc"), &err),
			 SERVE_CHECK_TOKEN);
	refused(ARGV("zfs", "send", "-t", "1-abc", "tank/data@x"), "token");
	refused(ARGV("zfs", "send", "-R", "-t", "1-abc"), "token");
}

static void test_send_only_policy(void **state)
{
	struct serve_policy so = SERVE_POLICY_INIT;
	strvec_push(&so.send_roots, "tank/data");
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	assert_int_equal(serve_policy_check(&so, ARGV("zfs", "receive", "tank/data/x"), &err), -EPERM);
	strbuf_reset(&err);
	assert_int_equal(serve_policy_check(&so, ARGV("zfs", "rollback", "tank/data@a"), &err), -EPERM);
	strbuf_reset(&err);
	assert_int_equal(serve_policy_check(&so, ARGV("zfs", "destroy", "-r", "tank/data/x"), &err), -EPERM);
	strbuf_reset(&err);
	assert_int_equal(serve_policy_check(&so, ARGV("zfs", "send", "tank/data@a"), &err), 0);
	serve_policy_release(&so);
}

/* An argv from a row's example (words separated by single spaces). */
static void split_example(const char *example, struct strvec *argv)
{
	strvec_split(argv, example, " ");
}

static void test_table_rows(void **state)
{
	assert_true(serve_nrules > 0);
	for (size_t i = 0; i < serve_nrules; i++) {
		const struct serve_rule *rule = &serve_rules[i];
		_cleanup_strvec_ struct strvec ex = STRVEC_INIT, bad = STRVEC_INIT, count = STRVEC_INIT;
		split_example(rule->example, &ex);
		assert_true(ex.n >= 2);
		assert_string_equal(ex.v[0], rule->prog);
		assert_string_equal(ex.v[1], rule->sub);
		/* its canonical example */
		allowed((const char *const *)ex.v);
		/* a flag no row allows */
		strvec_pushv(&bad, ARGV(rule->prog, rule->sub, "-Z"));
		for (size_t k = 2; k < ex.n; k++)
			strvec_push(&bad, ex.v[k]);
		refused((const char *const *)bad.v, "-Z");
		/* one operand too many, or one too few */
		assert_true(rule->max_ops < SERVE_MAX_OPS || rule->min_ops > 0);
		size_t n = rule->max_ops < SERVE_MAX_OPS ? rule->max_ops + 1 : rule->min_ops - 1;
		strvec_pushv(&count, ARGV(rule->prog, rule->sub));
		for (size_t k = 0; k < n; k++)
			strvec_push(&count, ex.v[ex.n - 1]);
		refused((const char *const *)count.v, rule->parse ? "exactly one" : "wrong number");
		/* the alias is the same command */
		if (rule->alias) {
			free(ex.v[1]);
			ex.v[1] = xstrdup(rule->alias);
			allowed((const char *const *)ex.v);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_round_trip_and_limits),
		cmocka_unit_test(test_request_round_trip),
		cmocka_unit_test(test_request_malformed),
		cmocka_unit_test(test_stream_options),
		cmocka_unit_test(test_name_in_root),
		cmocka_unit_test_setup_teardown(test_policy_allows_replication, setup, teardown),
		cmocka_unit_test_setup_teardown(test_policy_refuses_everything_else, setup, teardown),
		cmocka_unit_test_setup_teardown(test_send_token_needs_check, setup, teardown),
		cmocka_unit_test(test_harden_receive),
		cmocka_unit_test(test_send_only_policy),
		cmocka_unit_test_setup_teardown(test_table_rows, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
