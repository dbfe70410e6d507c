/* Fuzz target: `zfs get -Hp`, `zfs holds -Hp`, `zpool list -Hp` and `zpool get -Hp` output. */
#include "base/zkeep.h"
#include "zfs/zfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strbuf err = STRBUF_INIT;
	struct zfs_props p = { 0 };
	struct zfs_holds h = { 0 };
	struct zpool_infos z = { 0 };
	struct zfs_version v;
	uint64_t bytes;
	zfs_parse_get((const char *)data, size, &p, &err);
	zfs_parse_holds((const char *)data, size, &h, &err);
	zpool_parse_list((const char *)data, size, &z, &err);
	zfs_parse_send_estimate((const char *)data, size, &bytes);
	char *pv[2];
	if (zpool_parse_props((const char *)data, size, ARGV("delegation", "guid"), 2, pv) == 0) {
		free(pv[0]);
		free(pv[1]);
	}
	if (zpool_parse_keyed((const char *)data, size, ARGV("tank\tguid", "tank2\tguid"), 2, 2,
			      pv) == 0) {
		free(pv[0]);
		free(pv[1]);
	}
	char *s = xstrndup((const char *)data, size);
	zfs_parse_version(s, &v);
	zfs_errno_from_message(s);
	zfs_name_valid(s, true);
	free(s);
	zfs_props_release(&p);
	zfs_holds_release(&h);
	zpool_infos_release(&z);
	strbuf_release(&err);
	return 0;
}
