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
	strvec_release(&g->roots);
	strbuf_release(&g->before_text);
	*g = (struct prop_guard)PROP_GUARD_INIT;
}

static bool grant_guarded(const struct deleg_grant *gr)
{
	for (size_t i = 0; i < gr->perms.n; i++)
		if (recv_prop_guarded(gr->perms.v[i], false))
			return true;
	return false;
}

/*
 * The listing of the roots into text. After the worker (when_gone), a root
 * it destroyed is left out rather than failing the whole listing.
 */
static int list_guarded(const struct prop_guard *g, struct zfs *z, bool when_gone,
			struct strbuf *text, struct strbuf *err)
{
	_cleanup_strvec_ struct strvec props = STRVEC_INIT, present = STRVEC_INIT;
	recv_guard_list_props(&props);
	const char *const *roots = (const char *const *)g->roots.v;
	int r = zfs_get_text(z, roots, RECV_GUARD_COLUMNS, (const char *const *)props.v, text);
	if (r < 0 && when_gone) {
		for (size_t i = 0; i < g->roots.n; i++)
			if (zfs_exists(z, g->roots.v[i]))
				strvec_push(&present, g->roots.v[i]);
		if (!present.n)
			return 0;
		strbuf_reset(text);
		if (present.n < g->roots.n)
			r = zfs_get_text(z, (const char *const *)present.v, RECV_GUARD_COLUMNS,
					 (const char *const *)props.v, text);
	}
	if (r < 0)
		strbuf_addf(err, "cannot read the properties a worker must not weaken: %s",
			    zfs_error(z));
	return r;
}

int prop_guard_begin(struct prop_guard *g, const struct deleg_set *set,
		     const char *const *keep, struct runner *run, struct strbuf *err)
{
	g->keep = keep;
	for (size_t i = 0; i < set->n; i++) {
		const struct deleg_grant *gr = &set->g[i];
		if (!gr->host && grant_guarded(gr) && strvec_find(&g->roots, gr->dataset) < 0)
			strvec_push(&g->roots, gr->dataset);
	}
	/* a root inside another is listed with it */
	size_t kept = 0;
	for (size_t i = 0; i < g->roots.n; i++) {
		bool inner = false;
		for (size_t j = 0; j < g->roots.n && !inner; j++)
			inner = zfs_name_below(g->roots.v[i], g->roots.v[j]);
		if (inner) {
			free(g->roots.v[i]);
			continue;
		}
		g->roots.v[kept++] = g->roots.v[i];
	}
	g->roots.n = kept;
	if (!kept)
		return 0;
	g->roots.v[kept] = NULL;
	_cleanup_release_(zfs) struct zfs z;
	zfs_init(&z, run);
	int r = list_guarded(g, &z, false, &g->before_text, err);
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
	_cleanup_strbuf_ struct strbuf after_text = STRBUF_INIT;
	_cleanup_release_(guard_rows) struct guard_rows before = GUARD_ROWS_INIT;
	_cleanup_release_(guard_rows) struct guard_rows after = GUARD_ROWS_INIT;
	_cleanup_release_(recv_repairs) struct recv_repairs rs = RECV_REPAIRS_INIT;
	const char *const *roots = (const char *const *)g->roots.v;
	int r = list_guarded(g, &z, true, &after_text, err);
	if (r == 0 && ((r = recv_guard_parse(g->before_text.buf, g->before_text.len, roots,
					     &before)) < 0 ||
		       (r = recv_guard_parse(after_text.buf, after_text.len, roots, &after)) < 0))
		strbuf_addstr(err, "the listing of the guarded properties is too long to check");
	if (r == 0)
		recv_guard_repairs(&before, &after, g->keep, &rs);
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

/*
 * The file: the magic line, a "root\tDATASET" line per root, an empty line,
 * then the listing as zfs printed it (recv_guard_parse() reads it again).
 */
int prop_guard_save(const struct prop_guard *g, const char *path, struct strbuf *err)
{
	if (!g->armed)
		return 0;
	_cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
	strbuf_addstr(&sb, GUARD_MAGIC);
	for (size_t i = 0; i < g->roots.n; i++)
		strbuf_addf(&sb, "root\t%s\n", g->roots.v[i]);
	strbuf_addch(&sb, '\n');
	strbuf_add(&sb, g->before_text.buf, g->before_text.len);
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
	    (st.st_mode & 077) || st.st_size > (256 << 20)) {
		strbuf_addf(err, "%s is not root's own file: not read", path);
		return -EPERM;
	}
	_cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
	int r = strbuf_read_fd(&sb, fd);
	if (r < 0) {
		strbuf_addf(err, "cannot read %s: %s", path, strerror(-r));
		return r;
	}
	prop_guard_release(g);
	g->keep = keep;
	const char *p = skip_prefix(sb.buf, GUARD_MAGIC);
	while (p && *p && *p != '\n') {
		const char *nl = strchr(p, '\n'), *ds;
		_cleanup_free_ char *line = nl ? xstrndup(p, (size_t)(nl - p)) : NULL;
		if (!line || !(ds = skip_prefix(line, "root\t")) || !deleg_dataset_name_ok(ds))
			break;
		strvec_push(&g->roots, ds);
		p = nl + 1;
	}
	if (!p || *p != '\n' || !g->roots.n) {
		strbuf_addf(err, "%s is not a zkeep guard file", path);
		return -EINVAL;
	}
	p++;
	strbuf_add(&g->before_text, p, sb.len - (size_t)(p - sb.buf));
	g->armed = true;
	return 0;
}
