/* Fuzz target: `zfs list -Hp` output with 0..3 extra property columns; with the first
 * byte's high bit, the same bytes as snapshot ids (name, guid, createtxg) onto the rows
 * they parsed to up to their first empty line. */
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
	const char *text = (const char *)data + 1;
	size_t len = size - 1;
	const char *blank = memmem(text, len, "\n\n", 2);
	size_t rows_len = blank && (data[0] & 0x80) ? (size_t)(blank - text) + 1 : len;
	int r = zfs_parse_list(text, rows_len, &t, &err);
	if (r == 0 && rows_len < len)
		r = zfs_parse_snapshot_ids(text + rows_len + 1, len - rows_len - 1, &t, &err);
	if (r == 0) {
		/* Invariants the rest of zkeep relies on. */
		for (size_t i = 0; i < t.nds; i++)
			for (size_t j = 1; j < t.ds[i].nsnaps; j++)
				if (t.ds[i].snaps[j - 1].createtxg > t.ds[i].snaps[j].createtxg)
					abort();
		/* the name index finds what a search of every row finds first */
		for (size_t i = 0; i < t.nds; i++) {
			size_t first = 0;
			while (strcmp(t.ds[first].name, t.ds[i].name) != 0)
				first++;
			if (zfs_tree_find(&t, t.ds[i].name) != &t.ds[first])
				abort();
		}
	}
	zfs_tree_release(&t);
	strbuf_release(&err);
	return 0;
}
