/*
 * Fuzz target: the zpool outputs `zkeep drive` and `zkeep verify` read
 * (drive.h): the `zpool import` scan, `zpool list -vHPL` vdevs and the
 * problems in `zpool status -p`.
 */
#include "base/zkeep.h"
#include "drive/drive.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = xstrndup((const char *)data, size);
	struct zpool_scan_entry *e = NULL;
	size_t n = 0;
	if (drive_parse_import_scan(text, &e, &n) == 0)
		drive_scan_free(e, n);
	struct strvec v = STRVEC_INIT;
	drive_parse_vdevs(text, &v);
	strvec_release(&v);
	drive_parse_pool_problems(text, &v);
	strvec_release(&v);
	free(text);
	return 0;
}
