/* subid.c - see subid.h. */
#include "base/zkeep.h"
#include "base/subid.h"
#include "base/parse.h"
#include "base/strbuf.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <sys/ioctl.h>

/*
 * A field as strtoull() reads it in base, the whole field, or false. Like
 * the tools, it takes leading blanks and a sign ("-1" is the largest count).
 */
static bool field_number(const char *p, size_t n, int base, uint64_t *out)
{
	if (n == 0)
		return false;
	_cleanup_free_ char *buf = xstrndup(p, n);
	return parse_c_unsigned(buf, base, out) == 0;
}

static bool holds(uint64_t first, uint64_t count, uint64_t id)
{
	return id >= first && id - first < count;
}

/* Whether the line [p, p+n) is a range that holds id under some reading. */
static bool line_holds(const char *p, size_t n, uint64_t id, struct subid_range *r)
{
	const char *nul = memchr(p, '\0', n);
	if (nul)
		n = (size_t)(nul - p); /* the tools read a line as a C string */
	const char *c1 = memchr(p, ':', n);
	if (!c1)
		return false;
	const char *c2 = memchr(c1 + 1, ':', (size_t)(p + n - c1 - 1));
	if (!c2)
		return false;
	/* shadow up to 4.17 (Debian 12, 13) reads three fields and ignores what follows */
	const char *f1 = c1 + 1, *f2 = c2 + 1;
	const char *c3 = memchr(f2, ':', (size_t)(p + n - f2));
	size_t n1 = (size_t)(c2 - f1), n2 = (size_t)((c3 ? c3 : p + n) - f2);
	static const int bases[] = { 10, 0 };
	for (size_t a = 0; a < ARRAY_SIZE(bases); a++)
		for (size_t b = 0; b < ARRAY_SIZE(bases); b++) {
			uint64_t first, count;
			if (field_number(f1, n1, bases[a], &first) &&
			    field_number(f2, n2, bases[b], &count) && holds(first, count, id)) {
				size_t on = (size_t)(c1 - p);
				if (on >= sizeof(r->owner))
					on = sizeof(r->owner) - 1;
				memcpy(r->owner, p, on);
				r->owner[on] = '\0';
				r->first = first;
				r->count = count;
				return true;
			}
		}
	return false;
}

int subid_find(const char *text, size_t len, uint64_t id, struct subid_range *hit)
{
	unsigned line = 0;
	for (size_t i = 0; i < len;) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t n = nl ? (size_t)(nl - (text + i)) : len - i;
		line++;
		struct subid_range r;
		if (line_holds(text + i, n, id, &r)) {
			r.line = line;
			*hit = r;
			return 1;
		}
		i += n + 1;
	}
	return 0;
}

int subid_file_find(const char *path, uint64_t id, struct subid_range *hit)
{
	_cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
	int r = strbuf_read_file(&sb, path);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	return subid_find(sb.buf, sb.len, id, hit);
}

int subid_map_find(const char *text, size_t len, uint64_t id)
{
	for (size_t i = 0; i < len;) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t n = nl ? (size_t)(nl - (text + i)) : len - i;
		_cleanup_free_ char *line = xstrndup(text + i, n);
		i += n + 1;
		char *save = NULL, *inside = strtok_r(line, " \t", &save);
		char *outside = inside ? strtok_r(NULL, " \t", &save) : NULL;
		char *count = outside ? strtok_r(NULL, " \t", &save) : NULL;
		uint64_t first, cnt;
		if (count && parse_u64(outside, &first) == 0 && parse_u64(count, &cnt) == 0 &&
		    holds(first, cnt, id))
			return 1;
	}
	return 0;
}

static int map_file_holds(const char *path, uint64_t id)
{
	_cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
	return strbuf_read_file(&sb, path) == 0 && subid_map_find(sb.buf, sb.len, id) == 1;
}

/*
 * Whether the user namespace at path (PROC/PID/ns/user) was made by root:
 * root's own (a systemd unit's PrivateUsers=, a container manager's) map
 * what root chose, not what a user can. Unknown counts as a user's.
 */
static bool userns_owned_by_root(const char *path)
{
	_cleanup_fd_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	uid_t owner;
	return fd >= 0 && ioctl(fd, NS_GET_OWNER_UID, &owner) == 0 && owner == 0;
}

/* Whether process pid's user namespace, if not self_ns and not root's, maps onto id. */
static bool process_maps(const char *proc_dir, const char *pid, const char *self_ns, uint64_t id)
{
	char ns[64];
	_cleanup_free_ char *link = xasprintf("%s/%s/ns/user", proc_dir, pid);
	ssize_t n = readlink(link, ns, sizeof(ns) - 1);
	if (n <= 0)
		return false; /* gone, or not ours to see */
	ns[n] = '\0';
	if (streq(ns, self_ns) || userns_owned_by_root(link))
		return false;
	static const char *const maps[] = { "uid_map", "gid_map" };
	for (size_t i = 0; i < ARRAY_SIZE(maps); i++) {
		_cleanup_free_ char *path = xasprintf("%s/%s/%s", proc_dir, pid, maps[i]);
		if (map_file_holds(path, id))
			return true;
	}
	return false;
}

int subid_userns_find(const char *proc_dir, uint64_t id, pid_t *pid)
{
	char self_ns[64];
	_cleanup_free_ char *self = xasprintf("%s/self/ns/user", proc_dir);
	ssize_t n = readlink(self, self_ns, sizeof(self_ns) - 1);
	if (n <= 0)
		return n < 0 ? -errno : -EIO;
	self_ns[n] = '\0';
	DIR *d = opendir(proc_dir);
	if (!d)
		return -errno;
	int found = 0;
	struct dirent *e;
	/* a plain walk: nothing of a process is read but its namespace and maps */
	while (!found && (e = readdir(d))) {
		if (e->d_name[0] < '1' || e->d_name[0] > '9' ||
		    e->d_name[strspn(e->d_name, "0123456789")] != '\0')
			continue;
		if (process_maps(proc_dir, e->d_name, self_ns, id)) {
			uint64_t p;
			found = 1;
			*pid = parse_u64(e->d_name, &p) == 0 ? (pid_t)p : 0;
		}
	}
	closedir(d);
	return found;
}
