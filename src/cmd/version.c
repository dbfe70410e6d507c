/* cmd/version.c - `zkeep version`. */
#include "base/zkeep.h"
#include "config.h"
#include "cli/commands.h"

const char cmd_version_help[] =
	"usage: zkeep version\n"
	"\n"
	"Print zkeep's version. Also `zkeep --version`.\n";

int cmd_version(int argc, char **argv)
{
	printf("zkeep %s\n", ZKEEP_VERSION);
	return EXIT_OK;
}
