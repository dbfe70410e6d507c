/*
 * sandbox_landlock.c - file system and network rules with Landlock.
 *
 * The syscalls and structures are declared here: Debian 12's headers stop at
 * ABI 2, the kernels zkeep runs on go up to ABI 7. Rights a kernel does not
 * know are masked out (a ruleset with unknown bits is refused with EINVAL),
 * so the same binary confines as much as each kernel can:
 *   ABI 1  file access        ABI 2  REFER (rename/link across dirs)
 *   ABI 3  TRUNCATE           ABI 4  TCP bind/connect by port
 *   ABI 5  IOCTL_DEV: device ioctls, granted on /dev/zfs only (without it
 *          every ZFS call would fail)
 *   ABI 6  scoping: no signals to, no abstract unix sockets of, processes
 *          outside the sandbox
 * A kernel without Landlock (or with it disabled) is reported, not fatal:
 * seccomp and, as root, the namespaces still apply.
 */
#include "base/zkeep.h"
#include "confine/sandbox.h"

#include <fcntl.h>
#include <sys/syscall.h>

#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444
#define SYS_landlock_add_rule 445
#define SYS_landlock_restrict_self 446
#endif

#define LL_CREATE_RULESET_VERSION (1U << 0)
#define LL_RULE_PATH_BENEATH 1
#define LL_RULE_NET_PORT 2
#define LL_NET_BIND_TCP (1ULL << 0)
#define LL_NET_CONNECT_TCP (1ULL << 1)
#define LL_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)
#define LL_SCOPE_SIGNAL (1ULL << 1)

struct ll_ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net; /* ABI 4 */
	uint64_t scoped;             /* ABI 6 */
};

struct ll_path_beneath_attr {
	uint64_t allowed_access;
	int32_t parent_fd;
} __attribute__((packed));

struct ll_net_port_attr {
	uint64_t allowed_access;
	uint64_t port;
};

/* Rights that only make sense on files (a file rule with others is EINVAL). */
#define FILE_ONLY (SBX_FS_EXECUTE | SBX_FS_WRITE_FILE | SBX_FS_READ_FILE | SBX_FS_TRUNCATE | \
		   SBX_FS_IOCTL_DEV)

int sandbox_landlock_abi(void)
{
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LL_CREATE_RULESET_VERSION);
	if (abi < 0)
		return errno == ENOSYS ? -EOPNOTSUPP : -errno;
	return (int)abi;
}

uint64_t sandbox_landlock_fs_mask(int abi)
{
	if (abi <= 0)
		return 0;
	uint64_t m = (1ULL << 13) - 1; /* ABI 1: EXECUTE .. MAKE_SYM */
	if (abi >= 2)
		m |= SBX_FS_REFER;
	if (abi >= 3)
		m |= SBX_FS_TRUNCATE;
	if (abi >= 5)
		m |= SBX_FS_IOCTL_DEV;
	return m;
}

static size_t attr_size(int abi)
{
	if (abi >= 6)
		return sizeof(struct ll_ruleset_attr);
	if (abi >= 4)
		return offsetof(struct ll_ruleset_attr, scoped);
	return offsetof(struct ll_ruleset_attr, handled_access_net);
}

int sandbox_landlock_apply(const struct sandbox_plan *p, struct strbuf *err)
{
	int abi = p->landlock_abi > 0 ? sandbox_landlock_abi() : p->landlock_abi;
	if (abi <= 0)
		return 0; /* reported by sandbox_describe() and the command */
	uint64_t mask = sandbox_landlock_fs_mask(abi);
	struct ll_ruleset_attr ra = { .handled_access_fs = mask };
	if (abi >= 4)
		ra.handled_access_net = LL_NET_BIND_TCP | LL_NET_CONNECT_TCP;
	if (abi >= 6)
		ra.scoped = LL_SCOPE_ABSTRACT_UNIX_SOCKET | LL_SCOPE_SIGNAL;

	_cleanup_fd_ int rs = (int)syscall(SYS_landlock_create_ruleset, &ra, attr_size(abi), 0);
	if (rs < 0) {
		int e = errno;
		strbuf_addf(err, "cannot create a Landlock ruleset (ABI %d): %s", abi, strerror(e));
		return -e;
	}
	for (size_t i = 0; i < p->nrules; i++) {
		const struct sandbox_rule *r = &p->rules[i];
		_cleanup_fd_ int fd = open(r->path, O_PATH | O_CLOEXEC);
		if (fd < 0) {
			if (errno == ENOENT)
				continue; /* e.g. /dev/zfs without the module: nothing to allow */
			int e = errno;
			strbuf_addf(err, "cannot open %s for a Landlock rule: %s", r->path, strerror(e));
			return -e;
		}
		struct ll_path_beneath_attr pb = { .allowed_access = r->access & mask,
						   .parent_fd = fd };
		if (!r->dir)
			pb.allowed_access &= FILE_ONLY;
		if (!pb.allowed_access)
			continue;
		if (syscall(SYS_landlock_add_rule, rs, LL_RULE_PATH_BENEATH, &pb, 0) < 0) {
			int e = errno;
			strbuf_addf(err, "cannot add the Landlock rule for %s: %s", r->path,
				    strerror(e));
			return -e;
		}
	}
	if (abi >= 4)
		for (size_t i = 0; i < p->nports; i++) {
			struct ll_net_port_attr np = { .allowed_access = LL_NET_CONNECT_TCP,
						       .port = p->ports[i] };
			if (syscall(SYS_landlock_add_rule, rs, LL_RULE_NET_PORT, &np, 0) < 0) {
				int e = errno;
				strbuf_addf(err, "cannot allow TCP port %u: %s", p->ports[i],
					    strerror(e));
				return -e;
			}
		}
	if (syscall(SYS_landlock_restrict_self, rs, 0) < 0) {
		int e = errno;
		strbuf_addf(err, "cannot enforce the Landlock ruleset: %s", strerror(e));
		return -e;
	}
	return 0;
}

static void describe_access(struct strbuf *out, uint64_t a)
{
	static const char *const names[] = { "execute", "write_file", "read_file", "read_dir",
		"remove_dir", "remove_file", "make_char", "make_dir", "make_reg", "make_sock",
		"make_fifo", "make_block", "make_sym", "refer", "truncate", "ioctl_dev" };
	bool first = true;
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (a & (1ULL << i)) {
			strbuf_addf(out, "%s%s", first ? "" : ",", names[i]);
			first = false;
		}
}

void sandbox_landlock_describe(const struct sandbox_plan *p, struct strbuf *out)
{
	int abi = p->landlock_abi;
	if (abi <= 0) {
		strbuf_addf(out, "landlock: NOT AVAILABLE on this kernel (%s): only seccomp%s "
			    "confine the worker\n", strerror(-abi),
			    p->privileged ? " and the namespaces" : "");
		return;
	}
	uint64_t mask = sandbox_landlock_fs_mask(abi);
	strbuf_addf(out, "landlock: ABI %d; everything not listed is denied\n", abi);
	for (size_t i = 0; i < p->nrules; i++) {
		const struct sandbox_rule *r = &p->rules[i];
		uint64_t a = r->access & mask & (r->dir ? ~0ULL : FILE_ONLY);
		strbuf_addf(out, "  %-5s %s: ", r->dir ? "dir" : "file", r->path);
		describe_access(out, a);
		strbuf_addch(out, '\n');
	}
	if (abi >= 4) {
		strbuf_addstr(out, "  tcp connect:");
		if (!p->nports)
			strbuf_addstr(out, " none");
		for (size_t i = 0; i < p->nports; i++)
			strbuf_addf(out, " %u", p->ports[i]);
		strbuf_addstr(out, "; tcp bind: none\n");
	} else {
		strbuf_addstr(out, "  network: not restricted by this kernel's Landlock (ABI < 4)\n");
	}
	if (abi >= 6)
		strbuf_addstr(out, "  scoped: no signals or abstract unix sockets outside\n");
	if (abi < 5)
		strbuf_addstr(out, "  ioctl: not restricted by this kernel's Landlock (ABI < 5)\n");
}
