/* Fuzz target: `zpool status` output (zpool_parse_status()). */
#include "base/zkeep.h"
#include "zfs/zfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct zpool_status st = ZPOOL_STATUS_INIT;
	zpool_parse_status((const char *)data, size, &st);
	for (size_t i = 0; i < st.n; i++)
		if (!st.v[i].name || !st.v[i].state || !st.v[i].read || !st.v[i].write ||
		    !st.v[i].cksum)
			abort();
	zpool_status_release(&st);
	return 0;
}
