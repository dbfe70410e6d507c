/* Fuzz target: `zfs list -Hp` output with 0..3 extra property columns. */
#include "base/zkeep.h"
#include "zfs/zfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const props[] = { "used", "compression", "syncoid:sync" };
	if (size < 1)
		return 0;
	size_t np = data[0] % 4;
	struct zfs_tree t = ZFS_TREE_INIT;
	struct strbuf err = STRBUF_INIT;
	for (size_t i = 0; i < np; i++)
		strvec_push(&t.props, props[i]);
	if (zfs_parse_list((const char *)data + 1, size - 1, &t, &err) == 0) {
		/* Invariants the rest of zkeep relies on. */
		for (size_t i = 0; i < t.nds; i++)
			for (size_t j = 1; j < t.ds[i].nsnaps; j++)
				if (t.ds[i].snaps[j - 1].createtxg > t.ds[i].snaps[j].createtxg)
					abort();
	}
	zfs_tree_release(&t);
	strbuf_release(&err);
	return 0;
}
