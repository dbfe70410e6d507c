/*
 * Fuzz target: the Config::IniFiles reader for sanoid.conf (any bytes: every line
 * end, heredocs, headers), then a walk over what it read.
 */
#include "base/zkeep.h"
#include "snapshots/sanoid_ini.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strbuf err = STRBUF_INIT;
	struct sanoid_ini ini;
	size_t total = 0;

	if (sanoid_ini_parse(&ini, (const char *)data, size, "fuzz.conf", &err) == 0) {
		for (size_t i = 0; i < ini.nsections; i++) {
			const struct sanoid_ini_section *s = &ini.sections[i];
			if (sanoid_ini_section(&ini, s->name) != s)
				abort(); /* names are unique */
			for (size_t j = 0; j < s->nkeys; j++) {
				if (sanoid_ini_key(s, s->keys[j].name) != &s->keys[j])
					abort();
				for (size_t v = 0; v < s->keys[j].values.n; v++)
					total += strlen(s->keys[j].values.v[v]);
			}
		}
		if (total > size)
			abort(); /* every value is a piece of the input */
		sanoid_ini_release(&ini);
	} else if (!err.len) {
		abort(); /* a failure always says why */
	}
	strbuf_release(&err);
	return 0;
}
