/* Fuzz target: a confined worker's cache report (snapshots/snapshot_engine.h), as the supervisor reads it. */
#include "base/zkeep.h"
#include "snapshots/snapshot_engine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char listing[] = "p/a\tfilesystem\t1\t1\t100\n"
				      "p/a@autosnap_2026-01-01_00:00:00_hourly\tsnapshot\t2\t2\t100\n"
				      "p/a/b\tfilesystem\t4\t4\t100\n";
	struct engine e;
	memset(&e, 0, sizeof(e));
	e.tree = (struct zfs_tree)ZFS_TREE_INIT;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	_cleanup_strvec_ struct strvec added = STRVEC_INIT, removed = STRVEC_INIT;
	if (zfs_parse_list(listing, sizeof(listing) - 1, &e.tree, &err) == 0)
		(void)engine_cache_report_parse(&e, (const char *)data, size, &added, &removed);
	zfs_tree_release(&e.tree);
	return 0;
}
