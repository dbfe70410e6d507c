/* Fuzz target: a confined worker's receive request, which root runs (zfs/root_receive.h). */
#include "base/zkeep.h"
#include "zfs/root_receive.h"
#include "zfs/root_request.h"
#include "zfs/zfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Whatever the request, what root agrees to run is a zfs receive with -u
 * into the target or below it, and no -o of a property the job does not set.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > ROOT_RECV_MAX || memchr(data, '\0', size))
		return 0; /* the channel refuses these before any parsing */
	char *msg = xstrndup((const char *)data, size);
	static const char *const props[] = { "compression", "setuid", "devices", "sharenfs",
					     "sharesmb", "zoned", "exec", "volmode", NULL };
	static const char *const keep[] = { "exec=on", NULL };
	const struct root_recv_policy p = { .target = "backup/data", .recursive = size % 2,
					    .force = size % 3 == 0, .props = props,
					    .keep = size % 5 == 0 ? keep : NULL };
	struct strvec argv = STRVEC_INIT, out = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT;
	if (root_recv_decode(msg, &argv) == 0 &&
	    root_recv_check(&p, (const char *const *)argv.v, &out, &err) == 0) {
		if (out.n < 4 || !streq(out.v[0], "zfs") || !streq(out.v[1], "receive"))
			abort();
		const char *target = out.v[out.n - 1];
		if (!streq(target, p.target) && !(p.recursive && zfs_name_within(target, p.target)))
			abort();
		bool u = false;
		for (size_t i = 2; i + 1 < out.n; i++) {
			if (streq(out.v[i], "-o")) {
				const char *v = out.v[++i];
				if (!strncmp(v, "quota=", 6) || !strncmp(v, "mountpoint=", 11) ||
				    streq(v, "setuid=on") || streq(v, "devices=on"))
					abort();
			} else if (streq(out.v[i], "-x")) {
				i++;
			} else if (out.v[i][0] == '-') {
				u |= strchr(out.v[i], 'u') != NULL;
				if (strchr(out.v[i], 'F') && !p.force)
					abort();
			} else {
				abort();
			}
		}
		if (!u)
			abort();
	}
	strvec_release(&argv);
	strvec_release(&out);
	strbuf_release(&err);
	free(msg);
	return 0;
}
