/* cmd/replicate.c - `zkeep replicate`. */
#include "base/zkeep.h"
#include "cli/commands.h"
#include "cli/repl_cli.h"
#include "cli/repl_run.h"

const char cmd_replicate_help[] =
	"usage: zkeep replicate [options] SOURCE TARGET\n"
	"\n"
	"Replicate the ZFS dataset SOURCE (and with -r its children) to TARGET, with\n"
	"syncoid's semantics (see docs/replicate.md), safer defaults and --json events.\n"
	"SOURCE and TARGET are [[user@]host:]dataset.\n"
	"\n"
	"Differences from `syncoid`:\n"
	"  - the newest common snapshot is held on both sides (tag zkeep_[ID_]HOST) so no\n"
	"    pruner can force a full resend; --no-hold turns that off;\n"
	"  - a target with snapshots newer than the common one is never rolled back and\n"
	"    receives never use -F unless --rollback is given;\n"
	"  - short options are single letters; long options need two dashes.\n"
	"\n"
	"Options:\n"
	"  -r, --recursive               also replicate every child dataset\n"
	"      --skip-parent             with -r: not the SOURCE dataset itself\n"
	"      --exclude-datasets=RE     with -r: skip datasets matching RE (repeatable)\n"
	"      --include-snaps=RE        send only snapshots matching RE (repeatable)\n"
	"      --exclude-snaps=RE        do not send snapshots matching RE (repeatable)\n"
	"      --identifier=ID           syncoid_ID_HOST sync snapshots (several targets)\n"
	"      --no-sync-snap            take no sync snapshot; send the newest existing one\n"
	"      --keep-sync-snap          keep older sync snapshots\n"
	"      --create-bookmark         with --no-sync-snap: bookmark the newest sent snapshot\n"
	"      --no-hold                 do not hold the newest common snapshot\n"
	"      --no-stream               send only the newest snapshot (-i), not all (-I)\n"
	"      --no-resume               do not resume interrupted receives (discard them)\n"
	"      --rollback                allow rolling the target back and receive -F\n"
	"      --force-delete            destroy a target that shares no snapshot (never a pool)\n"
	"      --delete-target-snapshots destroy target snapshots the source no longer has\n"
	"      --no-clone-handling       send clones in full\n"
	"      --sendoptions=OPTS        extra zfs send flags, e.g. \"w\" or \"Lce\"\n"
	"      --recvoptions=OPTS        extra zfs receive flags, e.g. \"u o canmount=off\"\n"
	"      --preserve-properties     receive with -o for each locally set source property\n"
	"      --preserve-recordsize     receive with -o recordsize=SOURCE'S\n"
	"      --compress=NAME           stream compression over ssh (syncoid's names)\n"
	"      --buffer-size=SIZE        transfer buffer (default 16M)\n"
	"      --bwlimit=RATE            bytes per second, e.g. 20M\n"
	"      --sshkey=FILE --sshport=N --sshcipher=C --sshoption=OPT --sshconfig=FILE\n"
	"      --serve                   the remote key's forced command is `zkeep serve --stdio`\n"
	"                                (no shell there; see `zkeep help serve`)\n"
	"  -n, --dry-run                 print the plan with estimated sizes; change nothing\n"
	"      --json                    one JSON event per line on stdout\n"
	"  -v, --verbose, --debug, --quiet\n"
	"\n"
	"Progress: a bar on a terminal, else a log line every 10 s (ZKEEP_PROGRESS_INTERVAL\n"
	"seconds), or --json progress events.\n"
	"\n"
	"Received datasets are quarantined: every receive sets setuid, devices, sharenfs,\n"
	"sharesmb off, zoned and exec inherited from the target's parent, zvols volmode=none\n"
	"(a property --recvoptions names is kept as given). As root a received filesystem is\n"
	"mounted only through directories root alone controls (no symbolic link on the way):\n"
	"otherwise it stays unmounted.\n"
	"\n"
	"Exit status: 0 all datasets replicated or up to date, 1 some failed or was left\n"
	"unmounted, or the target is busy (another run or a zfs receive is writing into it),\n"
	"2 nothing could be done\n"
	"(usage, source missing, listing failed).\n";

int cmd_replicate(int argc, char **argv)
{
	struct repl_cli c;
	repl_cli_init(&c);
	int r = repl_cli_parse(&c, argc, argv, cmd_replicate_help);
	int ret = r < 0 ? EXIT_FATAL : r > 0 ? EXIT_OK : repl_cli_run(&c);
	repl_cli_release(&c);
	return ret;
}
