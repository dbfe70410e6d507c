/* unit_hardening.c - see unit_hardening.h. */
#include "base/zkeep.h"
#include "confine/unit_hardening.h"

#define ALL (UNIT_ZFS | UNIT_DRIVE | UNIT_CONNECT)
#define ZFS_CONNECT (UNIT_ZFS | UNIT_CONNECT)

/* In the order units get them. */
static const struct {
	const char *line;
	unsigned kinds;
} lines[] = {
	{ "NoNewPrivileges=yes", ALL },
	{ "UMask=0077", ALL },
	{ "DevicePolicy=closed", ALL },
	{ "DeviceAllow=/dev/zfs rw", UNIT_ZFS | UNIT_DRIVE },
	{ "PrivateDevices=yes", UNIT_CONNECT },
	/* the drive's pool: its disks, wherever they show up */
	{ "DeviceAllow=block-sd rw", UNIT_DRIVE },
	{ "DeviceAllow=block-blkext rw", UNIT_DRIVE },
	{ "DeviceAllow=block-virtblk rw", UNIT_DRIVE },
	{ "DeviceAllow=block-loop rw", UNIT_DRIVE },
	{ "DeviceAllow=block-device-mapper rw", UNIT_DRIVE },
	{ "PrivateTmp=yes", ALL },
	{ "PrivateMounts=yes", ALL },
	{ "PrivateIPC=yes", ZFS_CONNECT },
	{ "ProtectSystem=strict", ALL },
	{ "ProtectHome=yes", ALL },
	{ "ProtectKernelTunables=yes", ALL },
	{ "ProtectKernelModules=yes", ALL },
	{ "ProtectKernelLogs=yes", ALL },
	{ "ProtectControlGroups=yes", ALL },
	{ "ProtectClock=yes", ALL },
	{ "ProtectHostname=yes", ALL },
	{ "ProtectProc=invisible", ALL },
	{ "ProcSubset=pid", ZFS_CONNECT },
	{ "RestrictNamespaces=yes", ZFS_CONNECT },
	/* the confined worker's own namespaces (confine/sandbox.c), made by root */
	{ "RestrictNamespaces=mnt pid ipc uts net", UNIT_DRIVE },
	{ "RestrictRealtime=yes", ALL },
	{ "RestrictSUIDSGID=yes", ALL },
	{ "LockPersonality=yes", ALL },
	{ "MemoryDenyWriteExecute=yes", ALL },
	{ "RemoveIPC=yes", ZFS_CONNECT },
	{ "KeyringMode=private", ALL },
	{ "SystemCallArchitectures=native", ALL },
	{ "SystemCallFilter=@system-service", ZFS_CONNECT },
	{ "SystemCallFilter=~@aio @chown @keyring @memlock @privileged @resources @setuid",
	  ZFS_CONNECT },
	/* zkeep's own Landlock layer: systemd 252's @system-service lacks these three, so
	 * without them the worker's landlock_create_ruleset() fails with EPERM under the
	 * unit and it runs without its file and network rules. Landlock only takes
	 * rights away. */
	{ "SystemCallFilter=landlock_create_ruleset landlock_add_rule landlock_restrict_self",
	  UNIT_ZFS },
	/* zpool import and export mount and unmount; the worker's sandbox is made with
	 * pivot_root, setgroups/setresuid/capset and Landlock; of @privileged nothing else */
	{ "SystemCallFilter=@system-service @mount", UNIT_DRIVE },
	{ "SystemCallFilter=landlock_create_ruleset landlock_add_rule landlock_restrict_self",
	  UNIT_DRIVE },
	{ "SystemCallFilter=~@clock @module @raw-io @reboot @swap @resources _sysctl acct bpf "
	  "fanotify_init fanotify_mark nfsservctl open_by_handle_at quotactl quotactl_fd "
	  "setdomainname sethostname vhangup", UNIT_DRIVE },
	{ "SystemCallErrorNumber=EPERM", ALL },
};

void unit_hardening(enum unit_kind kind, struct strbuf *out)
{
	for (size_t i = 0; i < ARRAY_SIZE(lines); i++)
		if (lines[i].kinds & kind)
			strbuf_addf(out, "%s\n", lines[i].line);
}

bool unit_word_ok(const char *s)
{
	return s && *s && !strpbrk(s, " \t\n\"'\\%$;");
}

bool unit_path_ok(const char *s)
{
	return unit_word_ok(s) && s[0] == '/' && strlen(s) < 1024;
}
