/* prop_guard.c - see prop_guard.h. */
#include "base/zkeep.h"
#include "base/atomic_file.h"
#include "confine/prop_guard.h"

#include <fcntl.h>
#include <sys/stat.h>

#define GUARD_MAGIC "zkeep-guard 1\n"

void prop_guard_release(struct prop_guard *g)
{
	if (!g)
		return;
	strvec_release(&g->roots_r);
	strvec_release(&g->roots_flat);
	zfs_props_release(&g->before);
	*g = (struct prop_guard)PROP_GUARD_INIT;
}

/* Whether dataset is root or below it. */
static bool within(const char *dataset, const char *root)
{
	size_t n = strlen(root);
	return strncmp(dataset, root, n) == 0 && (dataset[n] == '\0' || dataset[n] == '/');
}

static bool within_any(const char *dataset, const struct strvec *roots)
{
	for (size_t i = 0; i < roots->n; i++)
		if (within(dataset, roots->v[i]))
			return true;
	return false;
}

static bool grant_guarded(const struct deleg_grant *gr)
{
	for (size_t i = 0; i < gr->perms.n; i++)
		if (recv_prop_guarded(gr->perms.v[i], false))
			return true;
	return false;
}

/* Move the rows of from to the end of to. */
static void props_append(struct zfs_props *to, struct zfs_props *from)
{
	if (!from->n)
		return;
	to->p = xreallocarray(to->p, to->n + from->n, sizeof(*to->p));
	memcpy(to->p + to->n, from->p, from->n * sizeof(*from->p));
	to->n += from->n;
	free(from->p);
	*from = (struct zfs_props){ 0 };
}

/*
 * Append the guarded properties of roots (and, when recursive, below them)
 * to out. After the worker (when_gone), a root it destroyed is left out
 * rather than failing the whole listing.
 */
static int list_guarded(struct zfs *z, const struct strvec *roots, bool recursive, bool when_gone,
			struct zfs_props *out, struct strbuf *err)
{
	if (!roots->n)
		return 0;
	_cleanup_strvec_ struct strvec names = STRVEC_INIT, present = STRVEC_INIT;
	recv_guard_names(&names);
	struct zfs_props got = { 0 };
	int r = zfs_get_dataset_props(z, (const char *const *)roots->v, recursive,
				      (const char *const *)names.v, &got);
	if (r < 0 && when_gone) {
		for (size_t i = 0; i < roots->n; i++)
			if (zfs_exists(z, roots->v[i]))
				strvec_push(&present, roots->v[i]);
		if (present.n == roots->n)
			goto fail;
		if (!present.n)
			return 0;
		r = zfs_get_dataset_props(z, (const char *const *)present.v, recursive,
					  (const char *const *)names.v, &got);
	}
	if (r == 0) {
		props_append(out, &got);
		return 0;
	}
fail:
	strbuf_addf(err, "cannot read the properties a worker must not weaken: %s",
		    zfs_error(z));
	return r;
}

static int list_all(struct prop_guard *g, struct zfs *z, bool when_gone, struct zfs_props *out,
		    struct strbuf *err)
{
	int r = list_guarded(z, &g->roots_r, true, when_gone, out, err);
	return r < 0 ? r : list_guarded(z, &g->roots_flat, false, when_gone, out, err);
}

int prop_guard_begin(struct prop_guard *g, const struct deleg_set *set,
		     const char *const *keep, struct runner *run, struct strbuf *err)
{
	g->keep = keep;
	for (size_t i = 0; i < set->n; i++) {
		const struct deleg_grant *gr = &set->g[i];
		if (gr->host || !grant_guarded(gr))
			continue;
		struct strvec *to = gr->scope == 'l' ? &g->roots_flat : &g->roots_r;
		if (strvec_find(to, gr->dataset) < 0)
			strvec_push(to, gr->dataset);
	}
	/* a dataset alone inside a granted tree is listed with the tree */
	size_t kept = 0;
	for (size_t i = 0; i < g->roots_flat.n; i++) {
		if (within_any(g->roots_flat.v[i], &g->roots_r)) {
			free(g->roots_flat.v[i]);
			continue;
		}
		g->roots_flat.v[kept++] = g->roots_flat.v[i];
	}
	g->roots_flat.n = kept;
	if (g->roots_flat.v)
		g->roots_flat.v[kept] = NULL;
	if (!g->roots_r.n && !g->roots_flat.n)
		return 0;
	_cleanup_release_(zfs) struct zfs z;
	zfs_init(&z, run);
	int r = list_all(g, &z, false, &g->before, err);
	g->armed = r == 0;
	return r;
}

int prop_guard_end(struct prop_guard *g, struct runner *run, struct strvec *repaired,
		   struct strbuf *err)
{
	if (!g->armed)
		return 0;
	_cleanup_release_(zfs) struct zfs z;
	zfs_init(&z, run);
	struct zfs_props after = { 0 };
	int r = list_all(g, &z, true, &after, err);
	_cleanup_release_(recv_repairs) struct recv_repairs rs = RECV_REPAIRS_INIT;
	if (r == 0)
		recv_guard_repairs(&g->before, &after, g->keep, &rs);
	zfs_props_release(&after);
	for (size_t i = 0; i < rs.n; i++) {
		const struct recv_repair *rp = &rs.r[i];
		int rr;
		if (rp->value) {
			_cleanup_free_ char *a = xasprintf("%s=%s", rp->name, rp->value);
			rr = zfs_set_props(&z, rp->dataset, ARGV(a));
		} else {
			rr = zfs_inherit_prop(&z, rp->dataset, rp->name);
		}
		strvec_pushf(repaired, "%s %s: %s -> %s%s", rp->dataset, rp->name, rp->found,
			     rp->value ? rp->value : "inherited", rr < 0 ? " (FAILED)" : "");
		if (rr < 0) {
			strbuf_addf(err, "%scannot put back %s of %s: %s", err->len ? "; " : "",
				    rp->name, rp->dataset, zfs_error(&z));
			r = rr;
		}
	}
	if (r == 0 && rs.n) {
		strbuf_addf(err, "the worker made %zu guarded propert%s less safe, put back as "
			    "root (a compromised worker, or a zfs that did not do what it was asked)",
			    rs.n, rs.n == 1 ? "y" : "ies");
		r = -EPERM;
	}
	return r;
}

static const char *source_text(const struct zfs_prop *p, char *buf, size_t n)
{
	if (p->source != ZFS_SRC_INHERITED)
		return zfs_source_word(p->source);
	snprintf(buf, n, "inherited from %s", p->inherited_from ? p->inherited_from : "-");
	return buf;
}

/*
 * The file: the magic line, "tree\tDATASET" and "alone\tDATASET" lines, an
 * empty line, then the listing as `zfs get -Hp -o name,property,value,source`
 * prints it (zfs_parse_get() reads it back).
 */
int prop_guard_save(const struct prop_guard *g, const char *path, struct strbuf *err)
{
	if (!g->armed)
		return 0;
	_cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
	strbuf_addstr(&sb, GUARD_MAGIC);
	for (size_t i = 0; i < g->roots_r.n; i++)
		strbuf_addf(&sb, "tree\t%s\n", g->roots_r.v[i]);
	for (size_t i = 0; i < g->roots_flat.n; i++)
		strbuf_addf(&sb, "alone\t%s\n", g->roots_flat.v[i]);
	strbuf_addch(&sb, '\n');
	for (size_t i = 0; i < g->before.n; i++) {
		const struct zfs_prop *p = &g->before.p[i];
		char from[320];
		strbuf_addf(&sb, "%s\t%s\t%s\t%s\n", p->dataset, p->name, p->value,
			    source_text(p, from, sizeof(from)));
	}
	int r = write_file_atomic(path, sb.buf, sb.len, 0600);
	if (r < 0)
		strbuf_addf(err, "cannot write %s: %s", path, strerror(-r));
	return r;
}

int prop_guard_load(struct prop_guard *g, const char *path, const char *const *keep,
		    struct strbuf *err)
{
	_cleanup_fd_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0) {
		int e = errno;
		if (e != ENOENT)
			strbuf_addf(err, "cannot open %s: %s", path, strerror(e));
		return -e;
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != 0 ||
	    (st.st_mode & 077) || st.st_size > (64 << 20)) {
		strbuf_addf(err, "%s is not root's own file: not read", path);
		return -EPERM;
	}
	_cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
	int r = strbuf_read_fd(&sb, fd);
	if (r < 0) {
		strbuf_addf(err, "cannot read %s: %s", path, strerror(-r));
		return r;
	}
	const char *end = strstr(sb.buf, "\n\n");
	if (!skip_prefix(sb.buf, GUARD_MAGIC) || !end) {
		strbuf_addf(err, "%s is not a zkeep guard file", path);
		return -EINVAL;
	}
	prop_guard_release(g);
	g->keep = keep;
	_cleanup_strvec_ struct strvec lines = STRVEC_INIT;
	_cleanup_free_ char *head = xstrndup(sb.buf + strlen(GUARD_MAGIC),
					     (size_t)(end + 1 - sb.buf) - strlen(GUARD_MAGIC));
	strvec_split(&lines, head, "\n");
	for (size_t i = 0; i < lines.n; i++) {
		const char *ds;
		if (!lines.v[i][0])
			continue;
		if ((ds = skip_prefix(lines.v[i], "tree\t")) && deleg_dataset_name_ok(ds))
			strvec_push(&g->roots_r, ds);
		else if ((ds = skip_prefix(lines.v[i], "alone\t")) && deleg_dataset_name_ok(ds))
			strvec_push(&g->roots_flat, ds);
		else {
			strbuf_addf(err, "%s: unexpected line '%s'", path, lines.v[i]);
			return -EINVAL;
		}
	}
	const char *rows = end + 2;
	if ((r = zfs_parse_get(rows, strlen(rows), &g->before, err)) < 0) {
		zfs_props_release(&g->before);
		return r;
	}
	g->armed = true;
	return 0;
}
