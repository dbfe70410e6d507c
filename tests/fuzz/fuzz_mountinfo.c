/* Fuzz target: /proc/self/mountinfo text (base/mountinfo.h), whose paths and
 * sources a local user can choose (a FUSE mount's name, a directory's). */
#include "base/zkeep.h"
#include "base/mountinfo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every entry has an absolute path; no entry holds a NUL (none is parsed past one);
 * a line never yields more than one entry. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mount_table t = MOUNT_TABLE_INIT;
	size_t skipped = mountinfo_parse((const char *)data, size, &t);
	size_t lines = size ? 1 : 0;
	for (size_t i = 0; i + 1 < size; i++)
		lines += data[i] == '\n';
	if (t.n + skipped > lines)
		abort();
	for (size_t i = 0; i < t.n; i++)
		if (t.m[i].path[0] != '/')
			abort();
	struct strvec paths = STRVEC_INIT;
	mount_table_zfs_paths(&t, "tank/x", &paths);
	strvec_release(&paths);
	mount_table_release(&t);
	return 0;
}
