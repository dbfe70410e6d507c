/*
 * Fuzz target: the outputs of zfs that the grants read as root - `zfs allow
 * DATASET` (deleg_create_time, deleg_missing, deleg_unallow_all, which reads
 * what a plugged-in drive carries: user and group names in it are anyone's)
 * and the createtxg listing of a new target's parent tree
 * (deleg_created_since: the names of datasets a worker created). The same
 * input is read as each.
 */
#include "base/zkeep.h"
#include "zfs/delegation.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = xstrndup((const char *)data, size);
	struct strvec set = STRVEC_INIT, missing = STRVEC_INIT, made = STRVEC_INIT;
	struct strvec who = STRVEC_INIT;
	/* each entry one of the shapes zfs unallow is given, no empty name */
	deleg_unallow_all(text, "gdst/bk", &who);
	for (size_t i = 0; i < who.n; i++) {
		const char *w = who.v[i];
		bool ok = streq(w, "-e") || streq(w, "-c") ||
			  ((skip_prefix(w, "-u\t") || skip_prefix(w, "-g\t")) && w[3] &&
			   !strchr(w + 3, ' ')) ||
			  (skip_prefix(w, "-s\t@") && w[4] && !strchr(w + 3, ' '));
		if (!ok)
			abort();
	}
	strvec_release(&who);
	deleg_create_time(text, "gdst/bk", &set);
	for (size_t i = 0; i < set.n; i++)
		if (!*set.v[i] || strvec_find(&set, set.v[i]) != (ssize_t)i)
			abort(); /* no empty or repeated permission */
	static const char *const groups[] = { "backup", NULL };
	for (char scope = 0; scope < 4; scope++) {
		struct deleg_grant g = { .dataset = (char *)"gdst/bk", .scope = "\0cld"[(int)scope],
					 .perms = STRVEC_INIT };
		strvec_pushv(&g.perms, ARGV("create", "mount", "receive", "setuid"));
		deleg_missing(&g, text, "alice", 1000, groups, &missing);
		strvec_release(&g.perms);
	}
	if (deleg_created_since(text, 7, &made) == 0)
		for (size_t i = 0; i < made.n; i++)
			if (strvec_find(&made, made.v[i]) != (ssize_t)i)
				abort(); /* each dataset once */
	strvec_release(&set);
	strvec_release(&missing);
	strvec_release(&made);
	free(text);
	return 0;
}
