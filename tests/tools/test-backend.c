/*
 * test-backend.c - drive the ZFS backend (zfs.h) from shell tests.
 *
 * After git's t/helper/test-tool: integration tests exercise every backend
 * call on real pools through this program, so the backend is tested on its
 * own, below the commands. Output is line-oriented and stable; an error
 * prints "error: ERRNO_NAME: message" on stderr and exits 1 (usage: 2).
 *
 *   test-backend version
 *   test-backend list [-r] [-s] [-b] [-o PROP,...] ROOT...
 *   test-backend snapshot [-r] SNAP...
 *   test-backend destroy-snaps DATASET SHORTNAME...
 *   test-backend destroy [-r] NAME
 *   test-backend hold TAG SNAP... | release TAG SNAP... | holds SNAP...
 *   test-backend bookmark SOURCE BOOKMARK
 *   test-backend get DATASET PROP | set DATASET K=V... | props [-r] [-l] DATASET
 *   test-backend send-recv [-w] [-i FROM | -I FROM] [-t TOKEN] [-s] [-F] [-u] SNAP TARGET
 *   test-backend estimate [-w] [-i FROM | -I FROM] SNAP
 *   test-backend resume-token DATASET | recv-abort DATASET
 *   test-backend pools [POOL...] | pool-prop POOL PROP
 *   test-backend dry-run snapshot SNAP...   (prints the planned command)
 */
#include "base/zkeep.h"
#include "zfs/zfs.h"

#include <getopt.h>

static struct zfs z;

static const char *errno_name(int e)
{
	switch (-e) {
	case ENOENT: return "ENOENT";
	case EEXIST: return "EEXIST";
	case EPERM: return "EPERM";
	case EBUSY: return "EBUSY";
	case ENOSPC: return "ENOSPC";
	case ENOEXEC: return "ENOEXEC";
	case EINVAL: return "EINVAL";
	case EIO: return "EIO";
	default: return "OTHER";
	}
}

static int fail(int r)
{
	fprintf(stderr, "error: %s: %s\n", errno_name(r), zfs_error(&z));
	return 1;
}

static int usage(void)
{
	fprintf(stderr, "usage: see tests/tools/test-backend.c\n");
	return 2;
}

static const char *const *rest(int argc, char **argv)
{
	(void)argc;
	return (const char *const *)argv;
}

static int do_list(int argc, char **argv)
{
	unsigned flags = 0;
	struct strvec props = STRVEC_INIT;
	int opt;
	optind = 1;
	while ((opt = getopt(argc, argv, "rsbo:")) != -1) {
		switch (opt) {
		case 'r': flags |= ZFS_LIST_RECURSIVE; break;
		case 's': flags |= ZFS_LIST_SNAPSHOTS; break;
		case 'b': flags |= ZFS_LIST_BOOKMARKS; break;
		case 'o': strvec_split(&props, optarg, ","); break;
		default: return usage();
		}
	}
	if (optind >= argc)
		return usage();
	struct zfs_tree t;
	int r = zfs_list_tree(&z, rest(argc, argv + optind), flags, (const char *const *)props.v, &t);
	if (r < 0 && r != -ENOENT) {
		strvec_release(&props);
		return fail(r);
	}
	for (size_t i = 0; i < t.nds; i++) {
		struct zfs_dataset *d = &t.ds[i];
		printf("%s\t%s\t%" PRIu64, d->name, zfs_type_name(d->type), d->createtxg);
		for (size_t k = 0; k < t.props.n; k++)
			printf("\t%s", d->props[k] ? d->props[k] : "-");
		printf("\n");
		for (size_t j = 0; j < d->nsnaps; j++) {
			struct zfs_snap *s = &d->snaps[j];
			printf("%s\t%s\t%" PRIu64 "\t%" PRIu64, s->name, zfs_type_name(s->type), s->createtxg, s->guid);
			for (size_t k = 0; k < t.props.n; k++)
				printf("\t%s", s->props[k] ? s->props[k] : "-");
			printf("\n");
		}
	}
	zfs_tree_release(&t);
	strvec_release(&props);
	return r < 0 ? fail(r) : 0;
}

static int parse_send(int argc, char **argv, struct zfs_send_args *s, struct zfs_recv_args *rv)
{
	int opt;
	optind = 1;
	while ((opt = getopt(argc, argv, "wi:I:t:sFu")) != -1) {
		switch (opt) {
		case 'w': s->raw = true; break;
		case 'i': s->from = optarg; break;
		case 'I': s->from = optarg; s->intermediates = true; break;
		case 't': s->resume_token = optarg; break;
		case 's': if (rv) rv->resumable = true; break;
		case 'F': if (rv) rv->force = true; break;
		case 'u': if (rv) rv->no_mount = true; break;
		default: return -1;
		}
	}
	return optind;
}

static int do_send_recv(int argc, char **argv)
{
	struct zfs_send_args s = { 0 };
	struct zfs_recv_args rv = { 0 };
	int i = parse_send(argc, argv, &s, &rv);
	if (i < 0 || argc - i != 2)
		return usage();
	s.snapshot = argv[i];
	rv.target = argv[i + 1];
	struct zfs_proc sp, rp;
	int r = zfs_send_start(&z, &s, SPAWN_PIPE, &sp);
	if (r < 0)
		return fail(r);
	/* The receiver reads the sender's pipe directly. */
	r = zfs_recv_start(&z, &rv, sp.c.out, &rp);
	close(sp.c.out);
	sp.c.out = -1;
	if (r < 0) {
		zfs_proc_kill(&sp);
		return fail(r);
	}
	int rs = zfs_proc_finish(&z, &sp);
	if (rs < 0) {
		fail(rs);
		zfs_proc_finish(&z, &rp);
		return 1;
	}
	int rr = zfs_proc_finish(&z, &rp);
	return rr < 0 ? fail(rr) : 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage();
	struct runner *run = runner_local_new();
	const char *cmd = argv[1];
	int r = 0, ret = 0;
	argc--;
	argv++;
	zfs_init(&z, run);

	if (streq(cmd, "dry-run")) {
		z.dry_run = true;
		cmd = argv[1];
		argc--;
		argv++;
	}

	if (streq(cmd, "version")) {
		struct zfs_version v;
		if ((r = zfs_get_version(&z, &v)) == 0)
			printf("%u.%u.%u kmod %u.%u.%u\n", v.major, v.minor, v.patch, v.kmod_major,
			       v.kmod_minor, v.kmod_patch);
	} else if (streq(cmd, "list")) {
		ret = do_list(argc, argv);
		goto out;
	} else if (streq(cmd, "snapshot")) {
		bool rec = argc > 1 && streq(argv[1], "-r");
		r = zfs_snapshot(&z, rest(argc, argv + 1 + rec), rec, NULL);
	} else if (streq(cmd, "destroy-snaps") && argc >= 3) {
		r = zfs_destroy_snapshots(&z, argv[1], rest(argc, argv + 2));
	} else if (streq(cmd, "destroy") && argc >= 2) {
		bool rec = streq(argv[1], "-r");
		r = zfs_destroy(&z, argv[1 + rec], rec ? ZFS_DESTROY_RECURSIVE : 0);
	} else if (streq(cmd, "hold") && argc >= 3) {
		r = zfs_hold(&z, argv[1], rest(argc, argv + 2), false);
	} else if (streq(cmd, "release") && argc >= 3) {
		r = zfs_hold_release(&z, argv[1], rest(argc, argv + 2), false);
	} else if (streq(cmd, "holds") && argc >= 2) {
		struct zfs_holds h;
		if ((r = zfs_list_holds(&z, rest(argc, argv + 1), false, &h)) == 0) {
			for (size_t i = 0; i < h.n; i++)
				printf("%s\t%s\t%lld\n", h.h[i].snapshot, h.h[i].tag,
				       (long long)h.h[i].timestamp);
			zfs_holds_release(&h);
		}
	} else if (streq(cmd, "bookmark") && argc == 3) {
		r = zfs_bookmark(&z, argv[1], argv[2]);
	} else if (streq(cmd, "get") && argc == 3) {
		char *v;
		if ((r = zfs_get_prop(&z, argv[1], argv[2], &v)) == 0) {
			printf("%s\n", v);
			free(v);
		}
	} else if (streq(cmd, "set") && argc >= 3) {
		r = zfs_set_props(&z, argv[1], rest(argc, argv + 2));
	} else if (streq(cmd, "props") && argc >= 2) {
		bool rec = false, local = false;
		int i = 1;
		for (; i < argc && argv[i][0] == '-'; i++) {
			rec |= streq(argv[i], "-r");
			local |= streq(argv[i], "-l");
		}
		struct zfs_props p;
		if ((r = zfs_get_props(&z, rest(argc, argv + i), rec, NULL, local ? ZFS_SRC_LOCAL : 0, &p)) == 0) {
			for (size_t k = 0; k < p.n; k++)
				printf("%s\t%s\t%s\t%u\t%s\n", p.p[k].dataset, p.p[k].name, p.p[k].value,
				       p.p[k].source, p.p[k].inherited_from ? p.p[k].inherited_from : "-");
			zfs_props_release(&p);
		}
	} else if (streq(cmd, "send-recv")) {
		ret = do_send_recv(argc, argv);
		goto out;
	} else if (streq(cmd, "estimate")) {
		struct zfs_send_args s = { 0 };
		int i = parse_send(argc, argv, &s, NULL);
		if (i < 0 || argc - i != 1) {
			ret = usage();
			goto out;
		}
		s.snapshot = argv[i];
		uint64_t bytes;
		if ((r = zfs_send_estimate(&z, &s, &bytes)) == 0)
			printf("%" PRIu64 "\n", bytes);
	} else if (streq(cmd, "resume-token") && argc == 2) {
		char *tok;
		if ((r = zfs_get_resume_token(&z, argv[1], &tok)) == 0) {
			printf("%s\n", tok ? tok : "none");
			free(tok);
		}
	} else if (streq(cmd, "recv-abort") && argc == 2) {
		r = zfs_recv_abort(&z, argv[1]);
	} else if (streq(cmd, "pools")) {
		struct zpool_infos p;
		if ((r = zpool_list(&z, rest(argc, argv + 1), &p)) == 0) {
			for (size_t i = 0; i < p.n; i++)
				printf("%s\t%s\t%u\n", p.p[i].name, p.p[i].health, p.p[i].capacity);
			zpool_infos_release(&p);
		}
	} else if (streq(cmd, "pool-prop") && argc == 3) {
		char *v;
		if ((r = zpool_get_prop(&z, argv[1], argv[2], &v)) == 0) {
			printf("%s\n", v);
			free(v);
		}
	} else {
		ret = usage();
		goto out;
	}
	if (r < 0)
		ret = fail(r);
out:
	for (size_t i = 0; i < z.planned.n; i++)
		printf("would run: %s\n", z.planned.v[i]);
	if (getenv("TEST_BACKEND_COUNT"))
		fprintf(stderr, "spawned %u\n", run->spawned);
	zfs_release(&z);
	runner_free(run);
	return ret;
}
