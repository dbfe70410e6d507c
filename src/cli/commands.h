/*
 * cli/commands.h - the subcommands of zkeep, one per file in src/cmd/.
 *
 * Each command is `int cmd_NAME(int argc, char **argv)`: argv[0] is the
 * command's name, the return value is the process exit status (see
 * docs/exit-codes.md: 0 success, 1 partial failure, 2 usage, config or fatal
 * error). Each file also defines its help text, printed by `zkeep help NAME`
 * and `zkeep NAME --help`.
 */
#ifndef ZKEEP_CMD_COMMANDS_H
#define ZKEEP_CMD_COMMANDS_H

/* Exit statuses shared by every command. */
enum {
	EXIT_OK = 0,
	EXIT_PARTIAL = 1, /* some dataset or item failed, the rest went on */
	EXIT_FATAL = 2,   /* usage, configuration or fatal error: nothing or little done */
};

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary; /* one line for `zkeep help` */
	const char *help;    /* the full text for `zkeep help NAME` */
	bool hidden;         /* not listed (internal) */
};

/* The table, in the order `zkeep help` lists it; ends with a NULL name. */
extern const struct command commands[];
const struct command *command_find(const char *name);
/* Print a command's help text to stdout. */
void command_print_help(const struct command *cmd);

#define DECLARE_COMMAND(name) \
	int cmd_##name(int argc, char **argv); \
	extern const char cmd_##name##_help[]

DECLARE_COMMAND(help);
DECLARE_COMMAND(version);
DECLARE_COMMAND(sanoid);
DECLARE_COMMAND(snapshot);
DECLARE_COMMAND(prune);
DECLARE_COMMAND(status);
DECLARE_COMMAND(metrics);
DECLARE_COMMAND(config);
DECLARE_COMMAND(allow);
DECLARE_COMMAND(confine);
DECLARE_COMMAND(units);
DECLARE_COMMAND(serve);
DECLARE_COMMAND(replicate);
DECLARE_COMMAND(syncoid);
DECLARE_COMMAND(drive);
DECLARE_COMMAND(verify);
DECLARE_COMMAND(diff);
DECLARE_COMMAND(restore);

#endif
