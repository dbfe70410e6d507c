/* cli/confined.c - see confined.h. */
#include "base/zkeep.h"
#include "cli/confined.h"
#include "base/log.h"

static bool disabled;

void confined_disable(void)
{
	disabled = true;
}

bool confined_disabled(void)
{
	const char *e = getenv("ZKEEP_NO_CONFINE");
	return disabled || (e && *e && !streq(e, "0"));
}

void confined_warn_unconfined(void)
{
	log_warning("*** --no-confine: running WITHOUT confinement, with all of this "
		    "process's privileges (root: every dataset of every pool). For debugging "
		    "only. ***");
}

void confined_report(const struct confine_info *info)
{
	for (size_t i = 0; i < info->recovered.n; i++)
		log_notice("revoked leftover grants of a crashed run: %s", info->recovered.v[i]);
	if (info->landlock_abi == -EPERM)
		log_notice("Landlock is blocked here (EPERM: a seccomp filter, such as a systemd "
			   "unit's SystemCallFilter=, denies its system calls): the worker ran "
			   "without its file and network rules");
	else if (info->landlock_abi < 0)
		log_notice("Landlock is not available on this kernel: the worker ran without its "
			   "file and network rules (namespaces and seccomp still applied)");
	for (size_t i = 0; i < info->pending.n; i++)
		log_warning("leftover grant of a crashed run pending until its pool is imported "
			    "again: %s", info->pending.v[i]);
	for (size_t i = 0; i < info->repaired.n; i++)
		log_error("the worker weakened a guarded property, put back as root: %s",
			  info->repaired.v[i]);
	for (size_t i = 0; i < info->missing.n; i++)
		log_warning("missing grant (an admin must run it): %s", info->missing.v[i]);
}
