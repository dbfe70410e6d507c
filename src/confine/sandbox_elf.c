/*
 * sandbox_elf.c - the runtime closure of a program, as ld.so would load it.
 *
 * For an ELF file: its PT_INTERP (the dynamic loader) and, recursively, every
 * DT_NEEDED library, searched like ld.so does: DT_RPATH (when there is no
 * DT_RUNPATH), DT_RUNPATH, then the directories of /etc/ld.so.conf (what
 * ldconfig caches) and the built-in defaults; $ORIGIN is expanded; a
 * candidate of the wrong ELF class or machine is skipped. For a script: its
 * "#!" interpreter (and, for "#!/usr/bin/env NAME", NAME found in PATH).
 * Every symlink met on a path is recorded so that it can be recreated in the
 * new root: binding through a symlink would lose it (Debian's /lib64 ->
 * usr/lib64 is where PT_INTERP points).
 *
 * Libraries loaded with dlopen() are not seen. glibc dlopens libgcc_s.so.1
 * for pthread_cancel and unwinding (zfs send/receive need it: "libgcc_s.so.1
 * must be installed for pthread_cancel to work"); sandbox.c adds it with
 * sandbox_closure_add_library(). NSS needs no module with the synthetic
 * nsswitch.conf ("files" is built into glibc >= 2.34).
 */
#include "base/zkeep.h"
#include "confine/sandbox.h"

#include <elf.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <sys/mman.h>
#include <sys/stat.h>

#define MAX_SYMLINKS 40
#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* ---- paths and symlinks -------------------------------------------------- */

static void record_link(struct sandbox_plan *plan, const char *path, const char *target)
{
	if (strvec_find(&plan->link_paths, path) >= 0)
		return;
	strvec_push(&plan->link_paths, path);
	strvec_push(&plan->link_targets, target);
}

int sandbox_closure_add_path(struct sandbox_plan *plan, const char *path, char **real,
			     struct strbuf *err)
{
	if (path[0] != '/') {
		strbuf_addf(err, "'%s' is not an absolute path", path);
		return -EINVAL;
	}
	_cleanup_free_ char *todo = xstrdup(path);
	_cleanup_strbuf_ struct strbuf cur = STRBUF_INIT;
	const char *p = todo;
	int links = 0;

	for (;;) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		const char *end = strchrnul(p, '/');
		size_t n = (size_t)(end - p);
		if (n == 1 && p[0] == '.') {
			p = end;
			continue;
		}
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			char *slash = strrchr(cur.buf, '/');
			strbuf_setlen(&cur, slash ? (size_t)(slash - cur.buf) : 0);
			p = end;
			continue;
		}
		size_t keep = cur.len;
		strbuf_addch(&cur, '/');
		strbuf_add(&cur, p, n);
		struct stat st;
		if (lstat(cur.buf, &st) < 0) {
			int e = errno;
			strbuf_addf(err, "cannot find %s (for %s): %s", cur.buf, path, strerror(e));
			return -e;
		}
		if (!S_ISLNK(st.st_mode)) {
			p = end;
			continue;
		}
		if (++links > MAX_SYMLINKS) {
			strbuf_addf(err, "too many symlinks resolving %s", path);
			return -ELOOP;
		}
		char target[PATH_MAX];
		ssize_t tl = readlink(cur.buf, target, sizeof(target) - 1);
		if (tl < 0) {
			int e = errno;
			strbuf_addf(err, "cannot read symlink %s: %s", cur.buf, strerror(e));
			return -e;
		}
		target[tl] = '\0';
		record_link(plan, cur.buf, target);
		strbuf_setlen(&cur, keep);
		/* Continue with target + the rest of the path. */
		char *next = target[0] == '/' ? xasprintf("%s%s", target, end)
					      : xasprintf("%s/%s%s", cur.buf, target, end);
		strbuf_reset(&cur); /* next is absolute */
		free(todo);
		todo = next;
		p = todo;
	}
	if (real)
		*real = cur.len ? strbuf_detach(&cur) : xstrdup("/");
	return 0;
}

/* ---- search directories -------------------------------------------------- */

static void read_ld_conf(struct strvec *dirs, const char *file, int depth)
{
	_cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
	strbuf_init(&sb, 1 << 20);
	if (depth > 8 || strbuf_read_file(&sb, file) < 0)
		return;
	_cleanup_strvec_ struct strvec lines = STRVEC_INIT;
	strvec_split(&lines, sb.buf, "\n");
	for (size_t i = 0; i < lines.n; i++) {
		char *l = lines.v[i];
		char *hash = strchr(l, '#');
		if (hash)
			*hash = '\0';
		while (*l == ' ' || *l == '\t')
			l++;
		size_t len = strlen(l);
		while (len && (l[len - 1] == ' ' || l[len - 1] == '\t'))
			l[--len] = '\0';
		const char *inc = skip_prefix(l, "include");
		if (inc && (*inc == ' ' || *inc == '\t')) {
			while (*inc == ' ' || *inc == '\t')
				inc++;
			glob_t g;
			if (glob(inc, 0, NULL, &g) == 0) {
				for (size_t j = 0; j < g.gl_pathc; j++)
					read_ld_conf(dirs, g.gl_pathv[j], depth + 1);
				globfree(&g);
			}
		} else if (l[0] == '/' && strvec_find(dirs, l) < 0) {
			strvec_push(dirs, l);
		}
	}
}

static const struct strvec *system_lib_dirs(void)
{
	static struct strvec dirs = STRVEC_INIT;
	static bool done;
	if (!done) {
		read_ld_conf(&dirs, "/etc/ld.so.conf", 0);
		const char *defaults[] = { "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu",
					   "/lib64", "/usr/lib64", "/lib", "/usr/lib" };
		for (size_t i = 0; i < ARRAY_SIZE(defaults); i++)
			if (strvec_find(&dirs, defaults[i]) < 0)
				strvec_push(&dirs, defaults[i]);
		done = true;
	}
	return &dirs;
}

/* ---- ELF ------------------------------------------------------------------ */

struct elf_info {
	unsigned char cls;
	uint16_t machine;
	char *interp;
	struct strvec needed;
	char *rpath, *runpath;
};

static void elf_info_free(struct elf_info *e)
{
	free(e->interp);
	strvec_release(&e->needed);
	free(e->rpath);
	free(e->runpath);
}

/* Map a virtual address to a file offset through the PT_LOAD segments. */
static bool vaddr_to_off(const Elf64_Phdr *ph, size_t phnum, uint64_t vaddr, uint64_t *off)
{
	for (size_t i = 0; i < phnum; i++)
		if (ph[i].p_type == PT_LOAD && vaddr >= ph[i].p_vaddr &&
		    vaddr < ph[i].p_vaddr + ph[i].p_filesz) {
			*off = vaddr - ph[i].p_vaddr + ph[i].p_offset;
			return true;
		}
	return false;
}

static const char *str_at(const char *base, size_t size, uint64_t off)
{
	if (off >= size || !memchr(base + off, '\0', size - off))
		return NULL;
	return base + off;
}

/* Parse a 64-bit little-endian ELF (the only kind this build runs). */
static int elf_parse(const char *path, const char *m, size_t size, struct elf_info *e,
		     struct strbuf *err)
{
	const Elf64_Ehdr *eh = (const void *)m;
	if (size < sizeof(*eh) || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_ident[EI_DATA] != ELFDATA2LSB || eh->e_phentsize != sizeof(Elf64_Phdr) ||
	    eh->e_phoff > size || eh->e_phnum > (size - eh->e_phoff) / sizeof(Elf64_Phdr)) {
		strbuf_addf(err, "%s: not a 64-bit little-endian ELF file zkeep can read", path);
		return -ENOEXEC;
	}
	e->cls = eh->e_ident[EI_CLASS];
	e->machine = eh->e_machine;
	const Elf64_Phdr *ph = (const void *)(m + eh->e_phoff);
	const Elf64_Phdr *dyn = NULL;
	for (size_t i = 0; i < eh->e_phnum; i++) {
		if (ph[i].p_offset > size || ph[i].p_filesz > size - ph[i].p_offset)
			continue;
		if (ph[i].p_type == PT_INTERP) {
			const char *s = str_at(m, ph[i].p_offset + ph[i].p_filesz, ph[i].p_offset);
			if (s)
				e->interp = xstrdup(s);
		} else if (ph[i].p_type == PT_DYNAMIC) {
			dyn = &ph[i];
		}
	}
	if (!dyn)
		return 0; /* static */
	const Elf64_Dyn *d = (const void *)(m + dyn->p_offset);
	size_t nd = dyn->p_filesz / sizeof(*d);
	uint64_t strtab = 0, strsz = 0;
	for (size_t i = 0; i < nd && d[i].d_tag != DT_NULL; i++) {
		if (d[i].d_tag == DT_STRTAB)
			strtab = d[i].d_un.d_ptr;
		else if (d[i].d_tag == DT_STRSZ)
			strsz = d[i].d_un.d_val;
	}
	uint64_t stroff;
	if (!strtab || !vaddr_to_off(ph, eh->e_phnum, strtab, &stroff) || stroff > size) {
		strbuf_addf(err, "%s: ELF dynamic section without a string table", path);
		return -ENOEXEC;
	}
	size_t strend = strsz && strsz <= size - stroff ? stroff + strsz : size;
	for (size_t i = 0; i < nd && d[i].d_tag != DT_NULL; i++) {
		if (d[i].d_tag != DT_NEEDED && d[i].d_tag != DT_RPATH && d[i].d_tag != DT_RUNPATH)
			continue;
		const char *s = str_at(m, strend, stroff + d[i].d_un.d_val);
		if (!s) {
			strbuf_addf(err, "%s: bad string offset in the ELF dynamic section", path);
			return -ENOEXEC;
		}
		if (d[i].d_tag == DT_NEEDED)
			strvec_push(&e->needed, s);
		else if (d[i].d_tag == DT_RPATH && !e->rpath)
			e->rpath = xstrdup(s);
		else if (d[i].d_tag == DT_RUNPATH && !e->runpath)
			e->runpath = xstrdup(s);
	}
	return 0;
}

/* Whether path is an ELF object of the given class and machine. */
static bool elf_matches(const char *path, unsigned char cls, uint16_t machine)
{
	_cleanup_fd_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	Elf64_Ehdr eh;
	if (fd < 0 || read(fd, &eh, sizeof(eh)) != (ssize_t)sizeof(eh))
		return false;
	return memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0 && eh.e_ident[EI_CLASS] == cls &&
	       eh.e_machine == machine;
}

/* Expand $ORIGIN / ${ORIGIN} in one search-path entry. */
static char *expand_origin(const char *dir, const char *origin)
{
	struct strbuf sb = STRBUF_INIT;
	for (const char *p = dir; *p;) {
		const char *rest;
		if ((rest = skip_prefix(p, "$ORIGIN")) || (rest = skip_prefix(p, "${ORIGIN}"))) {
			strbuf_addstr(&sb, origin);
			p = rest;
		} else {
			strbuf_addch(&sb, *p++);
		}
	}
	return strbuf_detach(&sb);
}

static int find_in_dirs(const char *list, const char *origin, const char *name,
			const struct elf_info *e, char **out)
{
	_cleanup_strvec_ struct strvec dirs = STRVEC_INIT;
	strvec_split(&dirs, list, ":");
	for (size_t i = 0; i < dirs.n; i++) {
		_cleanup_free_ char *dir = expand_origin(dirs.v[i], origin);
		_cleanup_free_ char *cand = xasprintf("%s/%s", dir, name);
		if (cand[0] == '/' && elf_matches(cand, e->cls, e->machine)) {
			*out = steal_pointer(&cand);
			return 0;
		}
	}
	return -ENOENT;
}

static int resolve_needed(const char *real, const struct elf_info *e, const char *name,
			  char **out)
{
	if (strchr(name, '/')) {
		*out = xstrdup(name);
		return 0;
	}
	_cleanup_free_ char *origin = xstrdup(real);
	char *slash = strrchr(origin, '/');
	if (slash)
		slash[slash == origin ? 1 : 0] = '\0';
	if (e->rpath && !e->runpath && find_in_dirs(e->rpath, origin, name, e, out) == 0)
		return 0;
	if (e->runpath && find_in_dirs(e->runpath, origin, name, e, out) == 0)
		return 0;
	const struct strvec *sys = system_lib_dirs();
	for (size_t i = 0; i < sys->n; i++) {
		_cleanup_free_ char *cand = xasprintf("%s/%s", sys->v[i], name);
		if (elf_matches(cand, e->cls, e->machine)) {
			*out = steal_pointer(&cand);
			return 0;
		}
	}
	return -ENOENT;
}

/* ---- scripts --------------------------------------------------------------- */

static int find_in_path(const char *name, char **out)
{
	_cleanup_strvec_ struct strvec dirs = STRVEC_INIT;
	strvec_split(&dirs, DEFAULT_PATH, ":");
	for (size_t i = 0; i < dirs.n; i++) {
		_cleanup_free_ char *cand = xasprintf("%s/%s", dirs.v[i], name);
		if (access(cand, X_OK) == 0) {
			*out = steal_pointer(&cand);
			return 0;
		}
	}
	return -ENOENT;
}

static int closure_add_depth(struct sandbox_plan *plan, const char *path, int depth,
			     struct strbuf *err);

static int script_interp(struct sandbox_plan *plan, const char *path, const char *m, size_t size,
			 int depth, struct strbuf *err)
{
	const char *nl = memchr(m, '\n', size < 256 ? size : 256);
	if (!nl) {
		strbuf_addf(err, "%s: \"#!\" line too long or unterminated", path);
		return -ENOEXEC;
	}
	_cleanup_free_ char *line = xstrndup(m + 2, (size_t)(nl - m - 2));
	_cleanup_strvec_ struct strvec w = STRVEC_INIT;
	strvec_split(&w, line, " \t");
	if (w.n == 0) {
		strbuf_addf(err, "%s: empty \"#!\" line", path);
		return -ENOEXEC;
	}
	int r = closure_add_depth(plan, w.v[0], depth + 1, err);
	if (r < 0)
		return r;
	const char *base = strrchr(w.v[0], '/');
	if (base && streq(base + 1, "env") && w.n > 1 && w.v[1][0] != '-') {
		_cleanup_free_ char *prog = NULL;
		if (find_in_path(w.v[1], &prog) < 0) {
			strbuf_addf(err, "%s: interpreter '%s' not found in %s", path, w.v[1],
				    DEFAULT_PATH);
			return -ENOENT;
		}
		return closure_add_depth(plan, prog, depth + 1, err);
	}
	return 0;
}

/* ---- the closure ------------------------------------------------------------ */

static int closure_add_depth(struct sandbox_plan *plan, const char *path, int depth,
			     struct strbuf *err)
{
	_cleanup_free_ char *real = NULL;
	int r;

	if (depth > 32) {
		strbuf_addf(err, "%s: dependency chain deeper than 32", path);
		return -ELOOP;
	}
	if ((r = sandbox_closure_add_path(plan, path, &real, err)) < 0)
		return r;
	if (strvec_find(&plan->files, real) >= 0)
		return 0; /* done already (also breaks cycles) */
	if (plan->files.n >= SANDBOX_MAX_PATHS) {
		strbuf_addf(err, "the closure of the worker's programs passes %d files",
			    SANDBOX_MAX_PATHS);
		return -E2BIG;
	}
	strvec_push(&plan->files, real);

	_cleanup_fd_ int fd = open(real, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		int e = errno;
		strbuf_addf(err, "cannot open %s: %s", real, strerror(e));
		return -e;
	}
	if (!S_ISREG(st.st_mode)) {
		strbuf_addf(err, "%s is not a regular file", real);
		return -EINVAL;
	}
	if (st.st_size < 4)
		return 0;
	size_t size = (size_t)st.st_size;
	void *m = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (m == MAP_FAILED) {
		int e = errno;
		strbuf_addf(err, "cannot map %s: %s", real, strerror(e));
		return -e;
	}
	if (memcmp(m, "#!", 2) == 0) {
		r = script_interp(plan, real, m, size, depth, err);
	} else if (memcmp(m, ELFMAG, SELFMAG) == 0) {
		struct elf_info e = { .needed = STRVEC_INIT };
		r = elf_parse(real, m, size, &e, err);
		if (r == 0 && e.interp)
			r = closure_add_depth(plan, e.interp, depth + 1, err);
		for (size_t i = 0; r == 0 && i < e.needed.n; i++) {
			_cleanup_free_ char *lib = NULL;
			if (resolve_needed(real, &e, e.needed.v[i], &lib) < 0) {
				strbuf_addf(err, "cannot find library %s needed by %s",
					    e.needed.v[i], real);
				r = -ENOENT;
			} else {
				r = closure_add_depth(plan, lib, depth + 1, err);
			}
		}
		elf_info_free(&e);
	}
	munmap(m, size);
	return r;
}

int sandbox_closure_add_library(struct sandbox_plan *plan, const char *name, struct strbuf *err)
{
	/* Of the machine zkeep itself was built for. */
	struct elf_info self = { .cls = ELFCLASS64, .machine = 0 };
	_cleanup_fd_ int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	Elf64_Ehdr eh;
	if (fd >= 0 && read(fd, &eh, sizeof(eh)) == (ssize_t)sizeof(eh))
		self.machine = eh.e_machine;
	_cleanup_free_ char *lib = NULL;
	if (resolve_needed("/", &self, name, &lib) < 0) {
		strbuf_addf(err, "cannot find library %s", name);
		return -ENOENT;
	}
	return closure_add_depth(plan, lib, 0, err);
}

int sandbox_closure_add(struct sandbox_plan *plan, const char *path, struct strbuf *err)
{
	_cleanup_free_ char *abs = NULL;
	if (!strchr(path, '/')) {
		if (find_in_path(path, &abs) < 0) {
			strbuf_addf(err, "program '%s' not found in %s", path, DEFAULT_PATH);
			return -ENOENT;
		}
		path = abs;
	}
	return closure_add_depth(plan, path, 0, err);
}
