/* serve_proto.c - see serve_proto.h. */
#include "base/zkeep.h"
#include "replication/serve_proto.h"
#include "base/parse.h"
#include "snapshots/syncsnap.h"
#include "zfs/zfs.h"

/* ---- frames -------------------------------------------------------------------------- */

void serve_put_header(uint8_t hdr[SERVE_HDR_LEN], enum serve_frame_type type, uint32_t len)
{
	hdr[0] = (uint8_t)type;
	hdr[1] = (uint8_t)(len >> 24);
	hdr[2] = (uint8_t)(len >> 16);
	hdr[3] = (uint8_t)(len >> 8);
	hdr[4] = (uint8_t)len;
}

int serve_parse_header(const uint8_t hdr[SERVE_HDR_LEN], enum serve_frame_type *type,
		       uint32_t *len)
{
	uint32_t n = (uint32_t)hdr[1] << 24 | (uint32_t)hdr[2] << 16 | (uint32_t)hdr[3] << 8 | hdr[4];
	switch (hdr[0]) {
	case SERVE_REQUEST:
	case SERVE_REFUSED:
		if (n > SERVE_REQUEST_MAX)
			return -EBADMSG;
		break;
	case SERVE_EXIT:
		if (n != 4)
			return -EBADMSG;
		break;
	case SERVE_STDIN:
	case SERVE_STDOUT:
	case SERVE_STDERR:
		if (n > SERVE_FRAME_MAX)
			return -EBADMSG;
		break;
	default:
		return -EBADMSG;
	}
	*type = (enum serve_frame_type)hdr[0];
	*len = n;
	return 0;
}

int serve_encode_request(struct strbuf *sb, const char *const *argv)
{
	size_t start = sb->len, n = 0;
	int r = strbuf_add(sb, SERVE_VERSION, sizeof(SERVE_VERSION)); /* with its NUL */
	for (; !r && argv[n]; n++)
		r = strbuf_add(sb, argv[n], strlen(argv[n]) + 1);
	if (!r && (n == 0 || n + 1 > SERVE_MAX_WORDS))
		r = -EINVAL;
	if (!r && sb->len - start > SERVE_REQUEST_MAX)
		r = -E2BIG;
	if (r)
		strbuf_setlen(sb, start);
	return r;
}

int serve_decode_request(const void *payload, size_t len, struct strvec *argv,
			 struct strbuf *err)
{
	const char *p = payload, *end = p + len;
	if (len == 0 || len > SERVE_REQUEST_MAX || p[len - 1] != '\0') {
		strbuf_addstr(err, "malformed request (not a list of NUL-terminated words)");
		return -EBADMSG;
	}
	size_t first = strlen(p);
	if (first != strlen(SERVE_VERSION) || memcmp(p, SERVE_VERSION, first) != 0) {
		strbuf_addf(err, "unsupported protocol version '%.40s' (this server speaks %s)", p,
			    SERVE_VERSION);
		return -EPROTO;
	}
	size_t words = 0;
	for (const char *q = p + first + 1; q < end; q += strlen(q) + 1) {
		if (++words >= SERVE_MAX_WORDS) {
			strbuf_addf(err, "request has more than %d words", SERVE_MAX_WORDS - 1);
			strvec_release(argv);
			return -EBADMSG;
		}
		strvec_push(argv, q);
	}
	if (argv->n == 0 || !*argv->v[0]) {
		strbuf_addstr(err, "empty request");
		strvec_release(argv);
		return -EBADMSG;
	}
	return 0;
}

void serve_codec_spec(const struct pump_codec *c, struct strbuf *sb)
{
	if (c->kind == PUMP_CODEC_ZSTD)
		strbuf_addf(sb, "zstd-%d", c->level > 0 ? c->level : 3);
	else if (c->kind == PUMP_CODEC_LZ4)
		strbuf_addstr(sb, "lz4");
}

static int parse_codec_spec(const char *spec, struct pump_codec *c)
{
	*c = (struct pump_codec){ PUMP_CODEC_NONE, 0, 0 };
	if (streq(spec, "lz4")) {
		c->kind = PUMP_CODEC_LZ4;
		return 0;
	}
	const char *lv = skip_prefix(spec, "zstd-");
	unsigned level;
	if (lv && parse_uint_range(lv, 1, 19, &level) == 0) {
		c->kind = PUMP_CODEC_ZSTD;
		c->level = (int)level;
		return 0;
	}
	return -EBADMSG;
}

int serve_take_options(struct strvec *argv, struct pump_codec *in, struct pump_codec *out,
		       struct strbuf *err)
{
	*in = *out = (struct pump_codec){ PUMP_CODEC_NONE, 0, 0 };
	bool seen_in = false, seen_out = false;
	size_t k = 0;
	for (; k < argv->n; k++) {
		const char *w = argv->v[k], *v;
		bool is_in = (v = skip_prefix(w, "codec-in=")) != NULL;
		if (!is_in && !(v = skip_prefix(w, "codec-out=")))
			break;
		if ((is_in ? seen_in : seen_out) || parse_codec_spec(v, is_in ? in : out) < 0) {
			strbuf_addf(err, "bad or repeated stream option '%.60s'", w);
			return -EBADMSG;
		}
		*(is_in ? &seen_in : &seen_out) = true;
	}
	if (k == 0)
		return 0;
	struct strvec rest = STRVEC_INIT;
	for (size_t i = k; i < argv->n; i++)
		strvec_push(&rest, argv->v[i]);
	strvec_release(argv);
	*argv = rest;
	if (argv->n == 0) {
		strbuf_addstr(err, "empty request");
		return -EBADMSG;
	}
	return 0;
}

/* ---- policy ---------------------------------------------------------------------------- */

void serve_policy_release(struct serve_policy *p)
{
	strvec_release(&p->receive_roots);
	strvec_release(&p->send_roots);
}

bool serve_name_in_root(const char *name, const char *root)
{
	size_t ds = strcspn(name, "@#");
	size_t rl = strlen(root);
	if (ds < rl || memcmp(name, root, rl) != 0)
		return false;
	return ds == rl || name[rl] == '/';
}

/* root is strictly below name's dataset: name is an ancestor of root. */
static bool is_ancestor_of(const char *name, const char *root)
{
	size_t n = strlen(name);
	return strlen(root) > n && memcmp(root, name, n) == 0 && root[n] == '/';
}

enum role {
	ROLE_ANY = 0,  /* any root */
	ROLE_SEND,
	ROLE_RECEIVE,
};

static bool in_roots(const struct strvec *roots, const char *name)
{
	for (size_t i = 0; i < roots->n; i++)
		if (serve_name_in_root(name, roots->v[i]))
			return true;
	return false;
}

static bool in_role(const struct serve_policy *p, enum role role, const char *name)
{
	if (role != ROLE_RECEIVE && in_roots(&p->send_roots, name))
		return true;
	if (role != ROLE_SEND && in_roots(&p->receive_roots, name))
		return true;
	return false;
}

static bool ancestor_of_any_root(const struct serve_policy *p, const char *name)
{
	const struct strvec *all[] = { &p->send_roots, &p->receive_roots };
	for (size_t k = 0; k < 2; k++)
		for (size_t i = 0; i < all[k]->n; i++)
			if (is_ancestor_of(name, all[k]->v[i]))
				return true;
	return false;
}

/* A parsed zfs/zpool command line: flags seen, their values, operands. */
struct cmdline {
	char flags[64];      /* each flag letter seen (in order, may repeat) */
	size_t nflags;
	const char *value[128]; /* value of a flag that takes one, by letter */
	const char *const *ops;
	size_t nops;
};

static bool has_flag(const struct cmdline *c, char f)
{
	return memchr(c->flags, f, c->nflags) != NULL;
}

/*
 * Parse argv (after the subcommand) with `simple` flags and `valued` flags
 * (which take a value, attached or as the next word). Flags come first; the
 * first other word starts the operands, and no operand may start with '-'
 * (glibc's getopt would take it as a flag).
 */
static int parse_cmdline(const char *const *argv, const char *simple, const char *valued,
			 struct cmdline *c, struct strbuf *err)
{
	memset(c, 0, sizeof(*c));
	size_t i = 0;
	for (; argv[i] && argv[i][0] == '-' && argv[i][1]; i++) {
		const char *w = argv[i];
		if (streq(w, "--")) {
			i++;
			break;
		}
		for (const char *f = w + 1; *f; f++) {
			if (c->nflags >= sizeof(c->flags)) {
				strbuf_addstr(err, "too many flags");
				return -EPERM;
			}
			unsigned char fc = (unsigned char)*f;
			if (fc < 128 && valued && strchr(valued, fc)) {
				const char *v = f[1] ? f + 1 : argv[++i];
				if (!v) {
					strbuf_addf(err, "flag -%c needs a value", fc);
					return -EPERM;
				}
				if (c->value[fc]) {
					strbuf_addf(err, "flag -%c given twice (not allowed here)", fc);
					return -EPERM;
				}
				c->flags[c->nflags++] = (char)fc;
				c->value[fc] = v;
				break;
			}
			if (!(fc < 128 && simple && strchr(simple, fc))) {
				strbuf_addf(err, "flag -%c is not allowed", fc);
				return -EPERM;
			}
			c->flags[c->nflags++] = (char)fc;
		}
	}
	c->ops = argv + i;
	for (; argv[i]; i++) {
		c->nops++;
		if (argv[i][0] == '-') {
			strbuf_addf(err, "'%s': an option after the operands is not allowed", argv[i]);
			return -EPERM;
		}
	}
	return 0;
}

static int bad_name(const char *name, struct strbuf *err)
{
	strbuf_addf(err, "'%s' is not a valid dataset, snapshot or bookmark name", name);
	return -EPERM;
}

static int outside(const char *name, const char *what, struct strbuf *err)
{
	strbuf_addf(err, "'%s' is outside the datasets this key may %s", name, what);
	return -EPERM;
}

/* Check one name: valid, and in a root of the role. */
static int check_name(const struct serve_policy *p, enum role role, const char *name,
		      bool allow_snap, struct strbuf *err)
{
	if (!zfs_name_valid(name, allow_snap))
		return bad_name(name, err);
	if (!in_role(p, role, name))
		return outside(name, role == ROLE_SEND ? "send from" : role == ROLE_RECEIVE ? "receive into" : "access", err);
	return 0;
}

/* The read-only commands: list/get may name an ancestor of a root, without recursion. */
static int check_readonly_operand(const struct serve_policy *p, const struct cmdline *c,
				  const char *name, struct strbuf *err)
{
	if (!zfs_name_valid(name, true))
		return bad_name(name, err);
	if (in_role(p, ROLE_ANY, name))
		return 0;
	if (!strpbrk(name, "@#") && ancestor_of_any_root(p, name) && !has_flag(c, 'r') &&
	    !has_flag(c, 'd'))
		return 0;
	return outside(name, "access", err);
}

static int need_ops(const struct cmdline *c, size_t min, size_t max, const char *what,
		    struct strbuf *err)
{
	if (c->nops < min || c->nops > max) {
		strbuf_addf(err, "%s: wrong number of operands", what);
		return -EPERM;
	}
	return 0;
}

/*
 * zfs destroy of "ds@a,b%c" or "ds#mark". In a receive root anything; in a
 * send root only bookmarks and sync snapshots (syncoid_*): a stolen send
 * key must not be able to delete the source's history.
 */
static int check_destroy_snaps(const struct serve_policy *p, const char *name,
			       struct strbuf *err)
{
	const char *at = strchr(name, '@');
	if (!at) {
		if (!zfs_name_valid(name, true))
			return bad_name(name, err);
		return in_role(p, ROLE_ANY, name) ? 0 : outside(name, "access", err);
	}
	_cleanup_free_ char *ds = xstrndup(name, (size_t)(at - name));
	_cleanup_strvec_ struct strvec parts = STRVEC_INIT;
	strvec_split(&parts, at + 1, ",%");
	if (parts.n == 0 || strstr(at + 1, ",,") || ends_with(name, ",") || ends_with(name, "%") ||
	    strchr(name, '#'))
		return bad_name(name, err);
	for (size_t i = 0; i < parts.n; i++) {
		_cleanup_free_ char *one = xasprintf("%s@%s", ds, parts.v[i]);
		if (!zfs_name_valid(one, true))
			return bad_name(one, err);
		if (in_role(p, ROLE_RECEIVE, one))
			continue;
		if (!in_role(p, ROLE_SEND, one))
			return outside(one, "access", err);
		if (strchr(at + 1, '%') || !syncsnap_is_sync(parts.v[i]))
			return strbuf_addf(err, "'%s': from a send root only sync snapshots (syncoid_*) "
					   "may be destroyed", one), -EPERM;
	}
	return 0;
}

/* Property names in -o/-x/get lists: [a-z0-9:._-] (user properties have a ':'). */
static bool prop_list_ok(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == ':' || *s == '.' ||
		      *s == '_' || *s == '-' || *s == ','))
			return false;
	return true;
}

static int check_zfs(const struct serve_policy *p, const char *sub, const char *const *args,
		     struct strbuf *err)
{
	struct cmdline c;
	int r;

	if (streq(sub, "list")) {
		if ((r = parse_cmdline(args, "Hpr", "dtosS", &c, err)))
			return r;
		if ((r = need_ops(&c, 1, 64, "zfs list", err)))
			return r;
		for (size_t i = 0; i < c.nops; i++)
			if ((r = check_readonly_operand(p, &c, c.ops[i], err)))
				return r;
		return 0;
	}
	if (streq(sub, "get")) {
		if ((r = parse_cmdline(args, "Hpr", "dtos", &c, err)))
			return r;
		if ((r = need_ops(&c, 2, 64, "zfs get", err)))
			return r;
		if (!prop_list_ok(c.ops[0]))
			return strbuf_addf(err, "'%s': not a property list", c.ops[0]), -EPERM;
		for (size_t i = 1; i < c.nops; i++)
			if ((r = check_readonly_operand(p, &c, c.ops[i], err)))
				return r;
		return 0;
	}
	if (streq(sub, "holds")) {
		if ((r = parse_cmdline(args, "Hpr", NULL, &c, err)))
			return r;
		if ((r = need_ops(&c, 1, 64, "zfs holds", err)))
			return r;
		for (size_t i = 0; i < c.nops; i++)
			if ((r = check_name(p, ROLE_ANY, c.ops[i], true, err)))
				return r;
		return 0;
	}
	if (streq(sub, "version")) {
		if ((r = parse_cmdline(args, "", NULL, &c, err)))
			return r;
		return need_ops(&c, 0, 0, "zfs version", err);
	}
	if (streq(sub, "send")) {
		if ((r = parse_cmdline(args, "LPVRbcehpsvwnS", "iIXt", &c, err)))
			return r;
		if (c.value['t']) {
			/* the token names what it sends: checked by the server */
			if (c.nflags != strspn(c.flags, "PVevnt") || c.nops)
				return strbuf_addstr(err, "zfs send -t: only -P -V -e -v -n go with a token"), -EPERM;
			return SERVE_CHECK_TOKEN;
		}
		if ((r = need_ops(&c, 1, 1, "zfs send", err)))
			return r;
		if (!strchr(c.ops[0], '@'))
			return strbuf_addf(err, "zfs send: '%s' is not a snapshot", c.ops[0]), -EPERM;
		if ((r = check_name(p, ROLE_SEND, c.ops[0], true, err)))
			return r;
		for (const char *f = "iI"; *f; f++) {
			const char *from = c.value[(unsigned char)*f];
			if (!from)
				continue;
			if (from[0] == '@' || from[0] == '#') {
				/* relative to the sent dataset */
				_cleanup_free_ char *full = xasprintf("%.*s%s", (int)strcspn(c.ops[0], "@"),
								      c.ops[0], from);
				r = check_name(p, ROLE_SEND, full, true, err);
			} else {
				r = check_name(p, ROLE_SEND, from, true, err);
			}
			if (r)
				return r;
		}
		if (c.value['X']) {
			_cleanup_strvec_ struct strvec ex = STRVEC_INIT;
			strvec_split(&ex, c.value['X'], ",");
			for (size_t i = 0; i < ex.n; i++)
				if ((r = check_name(p, ROLE_SEND, ex.v[i], false, err)))
					return r;
		}
		return 0;
	}
	if (streq(sub, "destroy")) {
		if ((r = parse_cmdline(args, "rdnpv", NULL, &c, err)))
			return r;
		if ((r = need_ops(&c, 1, 1, "zfs destroy", err)))
			return r;
		const char *name = c.ops[0];
		if (strpbrk(name, "@#")) {
			return check_destroy_snaps(p, name, err);
		}
		if ((r = check_name(p, ROLE_RECEIVE, name, false, err)))
			return r;
		for (size_t i = 0; i < p->receive_roots.n; i++)
			if (streq(name, p->receive_roots.v[i]))
				return strbuf_addf(err, "'%s' is the root this key may receive into: it is "
						   "never destroyed", name), -EPERM;
		return 0;
	}
	if (streq(sub, "rollback")) {
		if ((r = parse_cmdline(args, "r", NULL, &c, err)))
			return r;
		if ((r = need_ops(&c, 1, 1, "zfs rollback", err)))
			return r;
		if (!strchr(c.ops[0], '@'))
			return strbuf_addf(err, "zfs rollback: '%s' is not a snapshot", c.ops[0]), -EPERM;
		return check_name(p, ROLE_RECEIVE, c.ops[0], true, err);
	}
	if (streq(sub, "snapshot")) {
		if ((r = parse_cmdline(args, "r", NULL, &c, err)))
			return r;
		if ((r = need_ops(&c, 1, 64, "zfs snapshot", err)))
			return r;
		for (size_t i = 0; i < c.nops; i++) {
			if (!strchr(c.ops[i], '@'))
				return strbuf_addf(err, "zfs snapshot: '%s' is not a snapshot", c.ops[i]), -EPERM;
			if ((r = check_name(p, ROLE_ANY, c.ops[i], true, err)))
				return r;
		}
		return 0;
	}
	if (streq(sub, "bookmark")) {
		if ((r = parse_cmdline(args, "", NULL, &c, err)))
			return r;
		if ((r = need_ops(&c, 2, 2, "zfs bookmark", err)))
			return r;
		if (!strchr(c.ops[1], '#'))
			return strbuf_addf(err, "zfs bookmark: '%s' is not a bookmark", c.ops[1]), -EPERM;
		for (size_t i = 0; i < 2; i++)
			if ((r = check_name(p, ROLE_SEND, c.ops[i], true, err)))
				return r;
		return 0;
	}
	if (streq(sub, "hold") || streq(sub, "release")) {
		if ((r = parse_cmdline(args, "r", NULL, &c, err)))
			return r;
		if ((r = need_ops(&c, 2, 64, "zfs hold/release", err)))
			return r;
		for (size_t i = 1; i < c.nops; i++) {
			if (!strchr(c.ops[i], '@'))
				return strbuf_addf(err, "'%s' is not a snapshot", c.ops[i]), -EPERM;
			if ((r = check_name(p, ROLE_ANY, c.ops[i], true, err)))
				return r;
		}
		return 0;
	}
	strbuf_addf(err, "'zfs %s' is not a request this server answers", sub);
	return -EPERM;
}

/* One -o/-x value of zfs receive. */
static int check_receive_prop(char flag, const char *v, struct strbuf *err)
{
	size_t klen = strcspn(v, "=");
	_cleanup_free_ char *key = xstrndup(v, klen);
	if (!prop_list_ok(key) || strchr(key, ',') || (flag == 'o' && !v[klen]) ||
	    (flag == 'x' && v[klen]))
		return strbuf_addf(err, "receive -%c '%s': not a property%s", flag, v,
				   flag == 'o' ? " assignment" : ""), -EPERM;
	if (flag == 'o' && (streq(key, "mountpoint") || streq(key, "sharenfs") ||
			    streq(key, "sharesmb") || streq(key, "zoned")))
		return strbuf_addf(err, "receive -o %s is not allowed over zkeep serve (received "
				   "datasets stay under the server's own mountpoint)", key), -EPERM;
	if (flag == 'o' && streq(key, "canmount") && !streq(v, "canmount=off") &&
	    !streq(v, "canmount=noauto"))
		return strbuf_addstr(err, "receive -o canmount may only be off or noauto"), -EPERM;
	return 0;
}

/* zfs receive [-sFuvnedhA] [-o P=V]... [-x P]... TARGET */
static int check_receive(const struct serve_policy *p, const char *const *args,
			 struct strbuf *err)
{
	size_t i = 0;
	for (; args[i] && args[i][0] == '-' && args[i][1]; i++) {
		for (const char *f = args[i] + 1; *f; f++) {
			if (*f == 'o' || *f == 'x') {
				const char *v = f[1] ? f + 1 : args[++i];
				if (!v)
					return strbuf_addf(err, "flag -%c needs a value", *f), -EPERM;
				int r = check_receive_prop(*f, v, err);
				if (r)
					return r;
				break;
			}
			if (!strchr("sFuvnedhA", *f))
				return strbuf_addf(err, "flag -%c is not allowed", *f), -EPERM;
		}
	}
	if (!args[i] || args[i + 1] || args[i][0] == '-')
		return strbuf_addstr(err, "zfs receive: exactly one target dataset is expected"), -EPERM;
	return check_name(p, ROLE_RECEIVE, args[i], false, err);
}

int serve_policy_check(const struct serve_policy *p, const char *const *argv,
		       struct strbuf *err)
{
	if (!argv || !argv[0] || !argv[1]) {
		strbuf_addstr(err, "empty request");
		return -EPERM;
	}
	for (size_t i = 0; argv[i]; i++)
		if (strchr(argv[i], '\n') || strlen(argv[i]) > 4096)
			return strbuf_addstr(err, "a word of the request is too long or has a newline"),
			       -EPERM;
	const char *prog = argv[0], *sub = argv[1];
	if (streq(prog, "zfs")) {
		if (streq(sub, "receive") || streq(sub, "recv"))
			return check_receive(p, argv + 2, err);
		return check_zfs(p, sub, argv + 2, err);
	}
	if (streq(prog, "zpool")) {
		struct cmdline c;
		int r;
		bool get = streq(sub, "get");
		if (!get && !streq(sub, "list"))
			return strbuf_addf(err, "'zpool %s' is not a request this server answers", sub),
			       -EPERM;
		if ((r = parse_cmdline(argv + 2, "Hp", "o", &c, err)))
			return r;
		if ((r = need_ops(&c, get ? 2 : 1, get ? 2 : 1, get ? "zpool get" : "zpool list", err)))
			return r;
		const char *feat = skip_prefix(c.ops[0], "feature@");
		if (get && !prop_list_ok(feat ? feat : c.ops[0]))
			return strbuf_addf(err, "'%s': not a property list", c.ops[0]), -EPERM;
		const char *pool = c.ops[get ? 1 : 0];
		const struct strvec *all[] = { &p->send_roots, &p->receive_roots };
		for (size_t k = 0; k < 2; k++)
			for (size_t i = 0; i < all[k]->n; i++) {
				_cleanup_free_ char *rp = zfs_pool_of(all[k]->v[i]);
				if (streq(rp, pool))
					return 0;
			}
		return outside(pool, "access", err);
	}
	strbuf_addf(err, "'%s' is not a program this server runs (only zfs and zpool)", prog);
	return -EPERM;
}

int serve_token_toname(const char *out, char **toname)
{
	const char *k = strstr(out, "toname = ");
	if (!k)
		return -ENODATA;
	k += strlen("toname = ");
	size_t n = strcspn(k, "\n");
	while (n && (k[n - 1] == ' ' || k[n - 1] == '\t' || k[n - 1] == '\r'))
		n--;
	if (!n)
		return -ENODATA;
	*toname = xstrndup(k, n);
	return 0;
}
