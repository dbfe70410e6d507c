/*
 * Fuzz target: sanoid.conf. The input is parsed as the user's config (with
 * the built-in defaults) and as a defaults file, then resolved against a few
 * dataset names, which walks templates and recursion.
 */
#include "base/zkeep.h"
#include "snapshots/sanoid_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const ds[] = { "tank", "tank/a", "tank/a/b", "pool", "pool/x" };
	struct strbuf err = STRBUF_INIT;
	struct sanoid_config cfg;
	struct sanoid_policies pol;

	if (sanoid_config_parse(&cfg, (const char *)data, size, "fuzz.conf", sanoid_defaults_conf,
				strlen(sanoid_defaults_conf), "defaults", &err) == 0) {
		if (sanoid_config_resolve(&cfg, ds, ARRAY_SIZE(ds), &pol, NULL) == 0)
			sanoid_policies_release(&pol);
		sanoid_config_release(&cfg);
	}
	strbuf_reset(&err);
	if (sanoid_config_parse(&cfg, "[tank]\n", 7, "c", (const char *)data, size, "fuzz.defaults",
				&err) == 0)
		sanoid_config_release(&cfg);
	strbuf_release(&err);
	return 0;
}
