/* Fuzz target: ZFS resume tokens (zfs/resume_token.h), as a serve client or a target sends them. */
#include "base/zkeep.h"
#include "zfs/resume_token.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = xstrndup((const char *)data, size);
	struct resume_token t;
	if (resume_token_parse(s, &t) == 0)
		resume_token_release(&t);
	free(s);
	return 0;
}
