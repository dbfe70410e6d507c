/*
 * Fuzz target: the [zkeep] and [job NAME] sections of zkeep.conf, whose values
 * go into systemd unit files. The input is parsed as a whole config file; on
 * success every job's grants are computed, as `zkeep allow --job` does.
 */
#include "base/zkeep.h"
#include "confine/jobconf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* inih reads a NUL-terminated string */
	char *text = xstrndup((const char *)data, size);
	struct strbuf err = STRBUF_INIT;
	struct jobconf c = JOBCONF_INIT;
	if (jobconf_parse(text, "fuzz.conf", &c, &err) == 0) {
		for (size_t i = 0; i < c.njobs; i++) {
			struct deleg_need needs[2];
			struct strvec props = STRVEC_INIT;
			(void)jobconf_needs(&c.jobs[i], false, false, &props, needs);
			strvec_release(&props);
		}
		jobconf_release(&c);
	}
	strbuf_release(&err);
	free(text);
	return 0;
}
