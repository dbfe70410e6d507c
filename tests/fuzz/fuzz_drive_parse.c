/*
 * Fuzz target: the zpool outputs `zkeep drive` and `zkeep verify` read
 * (drive.h): the `zpool import` scan, `zpool list -vHPL` vdevs and the
 * problems in `zpool status -p`; and the counts a confined drive worker
 * reports to root (drive_counts_parse(), on the raw bytes).
 */
#include "base/zkeep.h"
#include "drive/drive.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct drive_result counts = { 0 }, again = { 0 };
	if (drive_counts_parse((const char *)data, size, &counts) == 0) {
		/* what parses is four numbers: written out and read back, the same */
		char *text = drive_counts_format(&counts);
		if (drive_counts_parse(text, strlen(text), &again) < 0 ||
		    memcmp(&counts, &again, sizeof(counts)) != 0)
			abort();
		free(text);
	}
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
