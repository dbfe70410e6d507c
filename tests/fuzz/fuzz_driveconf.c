/*
 * Fuzz target: the [drive NAME] sections of zkeep.conf. The input is parsed
 * as a whole config file; on success every drive's import name and a target
 * name are computed.
 */
#include "base/zkeep.h"
#include "drive/driveconf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* inih reads a NUL-terminated string */
	char *text = xstrndup((const char *)data, size);
	struct strbuf err = STRBUF_INIT;
	struct driveconf c = DRIVECONF_INIT;
	if (driveconf_parse(text, "fuzz.conf", &c, &err) == 0) {
		for (size_t i = 0; i < c.n; i++) {
			free(drive_import_name(&c.drives[i]));
			free(drive_target_of(&c.drives[i], "pool", c.drives[i].datasets.v[0]));
		}
		driveconf_release(&c);
	}
	strbuf_release(&err);
	free(text);
	return 0;
}
