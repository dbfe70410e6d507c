/* Fuzz target: `zfs diff -FHt` output (zdiff.h). */
#include "base/zkeep.h"
#include "drive/zdiff.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strbuf err = STRBUF_INIT;
	struct zdiff d = ZDIFF_INIT;
	if (zdiff_parse((const char *)data, size, &d, &err) == 0)
		zdiff_release(&d);
	strbuf_release(&err);
	return 0;
}
