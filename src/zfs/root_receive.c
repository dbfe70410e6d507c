/* zfs/root_receive.c - see root_receive.h. */
#include "zfs/root_receive.h"
#include "zfs/recvprops.h"
#include "zfs/delegation.h"
#include "zfs/zfs.h"

static bool in_list(const char *const *list, const char *s)
{
	for (size_t i = 0; list && list[i]; i++)
		if (streq(list[i], s))
			return true;
	return false;
}

/* "the reason: word" into err; -EPERM. */
static int refuse(struct strbuf *err, const char *reason, const char *word)
{
	strbuf_addf(err, "%s: '%s'", reason, word);
	return -EPERM;
}

/* Whether every override of want is among the request's words got. */
static bool has_all(const struct strvec *want, const struct strvec *got)
{
	for (size_t i = 0; i < want->n; i++)
		if (strvec_find(got, want->v[i]) < 0)
			return false;
	return true;
}

/*
 * What root excludes from a stream (-x) unless the job sets it or the
 * request names it: a worker without the permission could not receive it,
 * and root has every permission. Where the copy mounts, space it takes or
 * denies later receives, and what keeps it intact. Each is in OpenZFS 2.1,
 * for the types marked (a -x that does not apply to a type prints a warning).
 */
static const struct {
	const char *name;
	bool filesystem, volume;
} root_excludes[] = {
	{ "mountpoint", true, false },	   { "canmount", true, false },
	{ "quota", true, false },	   { "refquota", true, false },
	{ "reservation", true, true },	   { "refreservation", true, true },
	{ "checksum", true, true },	   { "sync", true, true },
};

/* One -o (assignment) or -x value: the rules of root_recv_policy. */
static int check_prop(const struct root_recv_policy *p, const char *v, bool assignment,
		      struct strvec *named, struct strbuf *err)
{
	_cleanup_free_ char *k = NULL;
	if (recv_prop_name(v, assignment, &k) < 0)
		return refuse(err, "not a property zfs receive can be given", v);
	strvec_push(named, k);
	if (recv_prop_guarded(k, false)) {
		if (recv_prop_is_override(v, assignment, false) || in_list(p->keep, v))
			return 0;
		return refuse(err, "it would weaken the quarantine of what is received", v);
	}
	if (assignment && !in_list(p->props, k))
		return refuse(err, "the job sets no such property", k);
	return 0;
}

int root_recv_check(const struct root_recv_policy *p, const char *const *argv,
		    struct strvec *out, struct strbuf *err)
{
	size_t n = 0;
	while (argv[n])
		n++;
	if (n < 3 || !streq(argv[0], "zfs") || !streq(argv[1], "receive")) {
		strbuf_addstr(err, "not a zfs receive");
		return -EPERM;
	}
	const char *target = argv[n - 1];
	if (!deleg_dataset_name_ok(target) ||
	    !(streq(target, p->target) || (p->recursive && zfs_name_within(target, p->target))))
		return refuse(err, "not the job's target or below it", target);
	_cleanup_strvec_ struct strvec set = STRVEC_INIT, ex = STRVEC_INIT;
	_cleanup_strvec_ struct strvec named = STRVEC_INIT;
	bool unmounted = false;
	for (size_t i = 2; i < n - 1; i++) {
		const char *w = argv[i];
		if (streq(w, "-o") || streq(w, "-x")) {
			if (i + 1 >= n - 1)
				return refuse(err, "no value after", w);
			bool assignment = w[1] == 'o';
			const char *v = argv[++i];
			int r = check_prop(p, v, assignment, &named, err);
			if (r < 0)
				return r;
			strvec_push(assignment ? &set : &ex, v);
			continue;
		}
		if (w[0] != '-' || !w[1])
			return refuse(err, "an unexpected word", w);
		for (const char *f = w + 1; *f; f++) {
			if (*f == 'F' ? !p->force : !strchr("suvh", *f))
				return refuse(err, "a flag this job does not receive with", w);
			unmounted |= *f == 'u';
		}
	}
	if (!unmounted) {
		strbuf_addstr(err, "a receive without -u (root mounts what it received itself)");
		return -EPERM;
	}
	/* The quarantine, complete for one type (a wrong type makes zfs refuse the -o). */
	_cleanup_strvec_ struct strvec keep_set = STRVEC_INIT, keep_ex = STRVEC_INIT;
	for (size_t i = 0; p->keep && p->keep[i]; i++)
		strvec_push(strchr(p->keep[i], '=') ? &keep_set : &keep_ex, p->keep[i]);
	_cleanup_strvec_ struct strvec fs_set = STRVEC_INIT, fs_ex = STRVEC_INIT;
	_cleanup_strvec_ struct strvec vol_set = STRVEC_INIT, vol_ex = STRVEC_INIT;
	recv_guard_args(ZFS_TYPE_FILESYSTEM, false, (const char *const *)keep_set.v,
			(const char *const *)keep_ex.v, &fs_set, &fs_ex);
	recv_guard_args(ZFS_TYPE_VOLUME, false, (const char *const *)keep_set.v,
			(const char *const *)keep_ex.v, &vol_set, &vol_ex);
	bool filesystem = has_all(&fs_set, &set) && has_all(&fs_ex, &ex);
	if (!filesystem && !(has_all(&vol_set, &set) && has_all(&vol_ex, &ex))) {
		strbuf_addstr(err, "the receive lacks the quarantine of what is received");
		return -EPERM;
	}
	for (size_t i = 0; i < n - 1; i++)
		strvec_push(out, argv[i]);
	for (size_t i = 0; i < ARRAY_SIZE(root_excludes); i++) {
		const char *k = root_excludes[i].name;
		if ((filesystem ? root_excludes[i].filesystem : root_excludes[i].volume) &&
		    strvec_find(&named, k) < 0 && !in_list(p->props, k)) {
			strvec_push(out, "-x");
			strvec_push(out, k);
		}
	}
	strvec_push(out, target);
	return 0;
}
