/* cmd/syncoid.c - zkeep run as `syncoid`: syncoid 2.3's command line. */
#include "base/zkeep.h"
#include "base/log.h"
#include "cli/commands.h"
#include "cli/repl_cli.h"
#include "cli/repl_run.h"

const char cmd_syncoid_help[] =
	"usage: syncoid [options]... SOURCE TARGET\n"
	"   or: syncoid [options]... SOURCE [[USER]@]HOST:TARGET\n"
	"   or: syncoid [options]... [[USER]@]HOST:SOURCE TARGET\n"
	"   or: syncoid [options]... [[USER]@]HOST:SOURCE [[USER]@]HOST:TARGET\n"
	"\n"
	"zkeep's drop-in for syncoid 2.3 (see docs/replicate.md). Options are parsed as\n"
	"syncoid's Perl Getopt::Long parses them: - or --, any case, unique abbreviations,\n"
	"before or after SOURCE and TARGET, -? for --help. zkeep's own options (--dry-run,\n"
	"--serve, --no-clone-rollback, --jobs) must be spelled in full.\n"
	"\n"
	"  --compress=FORMAT     gzip, pigz-fast, pigz-slow, zstd-fast, zstdmt-fast, zstd-slow,\n"
	"                        zstdmt-slow, lz4, xz, lzo (default) or none; only over ssh\n"
	"  --identifier=EXTRA    included in sync snapshot names: syncoid_EXTRA_HOST_...\n"
	"  --recursive|r         also transfer child datasets\n"
	"  --skip-parent         with --recursive: skip the parent dataset\n"
	"  --exclude-datasets=RE skip datasets matching RE (repeatable; --exclude is the old\n"
	"                        name, ignored when --exclude-datasets is given)\n"
	"  --include-snaps=RE    transfer only snapshots matching RE (repeatable)\n"
	"  --exclude-snaps=RE    do not transfer snapshots matching RE (repeatable)\n"
	"  --source-bwlimit=RATE, --target-bwlimit=RATE  bytes/s limit (k, m, g, t suffixes)\n"
	"  --mbuffer-size=SIZE   transfer buffer size (default 16M; unless given, splicing\n"
	"                        takes a 1M+ pipe where 16M needs a privilege)\n"
	"  --pv-options=OPTS     accepted and ignored (with a warning): progress is built in,\n"
	"                        a bar on a terminal; with --debug also lines in logs\n"
	"  --no-stream           send only the newest snapshot (-i) instead of all (-I)\n"
	"  --no-sync-snap        take no sync snapshot, transfer existing ones\n"
	"  --keep-sync-snap      do not destroy older sync snapshots\n"
	"  --create-bookmark     with --no-sync-snap: bookmark the newest source snapshot\n"
	"  --use-hold            hold the newest sync snapshot on both sides (tag syncoid_[ID_]HOST)\n"
	"  --preserve-recordsize receive with the source's recordsize\n"
	"  --preserve-properties receive with the source's locally set properties\n"
	"  --no-clone-rollback   zkeep only: accepted; rollbacks never destroy clones in zkeep\n"
	"  --no-rollback         never roll the target back (no receive -F)\n"
	"  --delete-target-snapshots  destroy target snapshots the source no longer has\n"
	"  --sendoptions=OPTS    e.g. \"Lc e\" -> zfs send -L -c -e; \"X pool/a\" excludes\n"
	"  --recvoptions=OPTS    e.g. \"ux recordsize o compression=lz4\"; unlike syncoid every\n"
	"                        receive sets setuid/devices/sharenfs/sharesmb=off, -x zoned,\n"
	"                        -x exec, zvols volmode=none, unless named here\n"
	"  --sshkey=FILE  --sshport=PORT  --sshcipher|c=CIPHER  --sshoption|o=OPTION (repeatable)\n"
	"  --sshconfig=FILE      ssh settings\n"
	"  --insecure-direct-connection=IP:PORT[,...]  accepted and ignored with a warning\n"
	"                        (zkeep always sends through ssh)\n"
	"  --no-privilege-elevation  do not use sudo on remote hosts\n"
	"  --force-delete        destroy a target that shares no snapshot (never a pool root)\n"
	"  --no-clone-handling   do not recreate clones on the target\n"
	"  --no-resume           do not resume interrupted transfers\n"
	"  --no-command-checks, --monitor-version  accepted, nothing to do\n"
	"  --dumpsnaps           print the snapshots of each source dataset and its target\n"
	"                        before syncing\n"
	"  --dry-run             zkeep only: print the plan and estimated sizes, change nothing\n"
	"  --serve               zkeep only: the remote key runs `zkeep serve --stdio`\n"
	"  --jobs=N              zkeep only: with --recursive, replicate up to N (1-8)\n"
	"                        datasets at once (default 1, as syncoid), each dataset's\n"
	"                        lines printed whole and in syncoid's order; a bandwidth\n"
	"                        limit is shared (1/N each); at most 8 ssh sessions at\n"
	"                        once on one connection\n"
	"  --debug, --quiet, --help, --version\n"
	"\n"
	"Output: syncoid 2.3.0's lines, INFO: (unless --quiet) and DEBUG: (with --debug) on\n"
	"stdout, WARNING: (unless --quiet) and CRITICAL ERROR: on stderr.\n"
	"Progress: a bar on a terminal (unless --quiet); with --debug, a line every 10 s.\n"
	"\n"
	"Exit status: 0 all good, 1 some dataset failed or the target is busy (another run\n"
	"or a zfs receive is writing into it), 2 fatal error.\n";

int cmd_syncoid(int argc, char **argv)
{
	struct repl_cli c;
	/* syncoid's INFO/DEBUG on stdout, WARNING/CRITICAL ERROR on stderr */
	log_set_style(LOG_STYLE_SYNCOID);
	repl_cli_init(&c);
	c.syncoid = true;
	int r = repl_cli_parse(&c, argc, argv, cmd_syncoid_help);
	int ret = r < 0 ? EXIT_FATAL : r > 0 ? EXIT_OK : repl_cli_run(&c);
	repl_cli_release(&c);
	return ret;
}
