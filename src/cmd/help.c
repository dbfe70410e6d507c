/* cmd/help.c - `zkeep help [COMMAND]`. */
#include "base/zkeep.h"
#include "cli/commands.h"
#include "base/log.h"

const char cmd_help_help[] =
	"usage: zkeep help [COMMAND]\n"
	"\n"
	"Without COMMAND, list zkeep's commands. With COMMAND, show its full help\n"
	"(the same as `zkeep COMMAND --help`).\n";

int cmd_help(int argc, char **argv)
{
	if (argc > 2) {
		log_error("usage: zkeep help [COMMAND]");
		return EXIT_FATAL;
	}
	if (argc == 2) {
		const struct command *cmd = command_find(argv[1]);
		if (!cmd) {
			log_error("'%s' is not a zkeep command (see 'zkeep help')", argv[1]);
			return EXIT_FATAL;
		}
		command_print_help(cmd);
		return EXIT_OK;
	}
	printf("usage: zkeep [--verbose | --quiet | --debug] [--no-confine] COMMAND [ARGS...]\n"
	       "       sanoid [OPTIONS]           (zkeep installed under that name)\n"
	       "       syncoid [OPTIONS] SOURCE TARGET\n"
	       "\n"
	       "zkeep keeps ZFS data safe: snapshots by policy, replication, backups,\n"
	       "verification and restore, with the least privilege it can.\n"
	       "\n"
	       "Commands:\n");
	for (const struct command *c = commands; c->name; c++)
		if (!c->hidden)
			printf("  %-12s %s\n", c->name, c->summary);
	printf("\nRun 'zkeep help COMMAND' for the options of one command.\n"
	       "Exit status: 0 success, 1 some item failed, 2 usage or fatal error.\n"
	       "Commands that change ZFS run in a confined worker (docs/security.md);\n"
	       "--no-confine (or ZKEEP_NO_CONFINE=1) turns that off, for debugging.\n");
	return EXIT_OK;
}
