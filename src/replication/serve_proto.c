/* serve_proto.c - see serve_proto.h. */
#include "base/zkeep.h"
#include "replication/serve_proto.h"
#include "base/parse.h"
#include "snapshots/syncsnap.h"
#include "zfs/recvprops.h"
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
struct serve_cmdline {
	char flags[64];      /* each flag letter seen (in order, may repeat) */
	size_t nflags;
	const char *value[128]; /* value of a flag that takes one, by letter */
	const char *const *ops;
	size_t nops;
};

static bool has_flag(const struct serve_cmdline *c, char f)
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
			 struct serve_cmdline *c, struct strbuf *err)
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

/* -t TYPES names only dataset types (filesystem, volume), or is absent. */
static bool types_datasets_only(const char *types)
{
	if (!types)
		return true;
	_cleanup_strvec_ struct strvec t = STRVEC_INIT;
	strvec_split(&t, types, ",");
	if (t.n == 0)
		return false;
	for (size_t i = 0; i < t.n; i++)
		if (!streq(t.v[i], "filesystem") && !streq(t.v[i], "volume"))
			return false;
	return true;
}

/*
 * The read-only commands: list/get may name an ancestor of a root (does a
 * target's parent exist?), but only the dataset itself: no recursion and no
 * snapshot or bookmark types, whose guids would let a forged resume token
 * name them.
 */
static int check_readonly_operand(const struct serve_policy *p, const struct serve_cmdline *c,
				  const char *name, struct strbuf *err)
{
	if (!zfs_name_valid(name, true))
		return bad_name(name, err);
	if (in_role(p, ROLE_ANY, name))
		return 0;
	if (strpbrk(name, "@#") || !ancestor_of_any_root(p, name))
		return outside(name, "access", err);
	if (has_flag(c, 'r') || has_flag(c, 'd'))
		return outside(name, "access", err);
	if (!types_datasets_only(c->value['t']))
		return strbuf_addf(err, "'%s' is outside the datasets this key may access: of an "
				   "ancestor only the dataset itself is listed, never its snapshots or "
				   "bookmarks (-t filesystem,volume)", name), -EPERM;
	return 0;
}

static int need_ops(const struct serve_cmdline *c, size_t min, size_t max, const char *what,
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

/* One -o/-x value of zfs receive. */
static int check_receive_prop(char flag, const char *v, struct strbuf *err)
{
	_cleanup_free_ char *key = NULL;
	if (recv_prop_name(v, flag == 'o', &key) < 0)
		return strbuf_addf(err, "receive -%c '%s': not a property%s", flag, v,
				   flag == 'o' ? " assignment" : ""), -EPERM;
	if (recv_prop_guarded(key, true) && !recv_prop_is_override(v, flag == 'o', true))
		return strbuf_addf(err, "receive -%c %s is not allowed over zkeep serve: the server "
				   "sets it itself (received datasets are quarantined: not mounted, "
				   "mountpoint under the server's tree, setuid, devices, sharenfs, "
				   "sharesmb off, zoned and exec inherited, zvols volmode=none)", flag, key),
		       -EPERM;
	if (streq(key, "origin"))
		return strbuf_addstr(err, "receive -o origin is not allowed over zkeep serve (it "
				   "would clone from any snapshot of the pool)"), -EPERM;
	if (flag == 'o' && streq(key, "canmount") && !streq(v, "canmount=off") &&
	    !streq(v, "canmount=noauto"))
		return strbuf_addstr(err, "receive -o canmount may only be off or noauto"), -EPERM;
	return 0;
}

/* ---- the checkers of the operands, one per row of the table ---------------------------- */

static int check_list(const struct serve_policy *p, const struct serve_cmdline *c, struct strbuf *err)
{
	int r;
	for (size_t i = 0; i < c->nops; i++)
		if ((r = check_readonly_operand(p, c, c->ops[i], err)))
			return r;
	return 0;
}

static int check_get(const struct serve_policy *p, const struct serve_cmdline *c, struct strbuf *err)
{
	int r;
	if (!prop_list_ok(c->ops[0]))
		return strbuf_addf(err, "'%s': not a property list", c->ops[0]), -EPERM;
	for (size_t i = 1; i < c->nops; i++)
		if ((r = check_readonly_operand(p, c, c->ops[i], err)))
			return r;
	return 0;
}

static int check_holds(const struct serve_policy *p, const struct serve_cmdline *c, struct strbuf *err)
{
	int r;
	for (size_t i = 0; i < c->nops; i++)
		if ((r = check_name(p, ROLE_ANY, c->ops[i], true, err)))
			return r;
	return 0;
}

/* -i/-I FROM: "@snap" and "#mark" are relative to the sent dataset. */
static int check_send_from(const struct serve_policy *p, const char *snap, const char *from,
			   struct strbuf *err)
{
	if (from[0] != '@' && from[0] != '#')
		return check_name(p, ROLE_SEND, from, true, err);
	_cleanup_free_ char *full = xasprintf("%.*s%s", (int)strcspn(snap, "@"), snap, from);
	return check_name(p, ROLE_SEND, full, true, err);
}

static int check_send(const struct serve_policy *p, const struct serve_cmdline *c, struct strbuf *err)
{
	int r;
	if (c->value['t']) {
		/* the token names what it sends: checked by the server */
		if (c->nflags != strspn(c->flags, "PVevnt") || c->nops)
			return strbuf_addstr(err, "zfs send -t: only -P -V -e -v -n go with a token"), -EPERM;
		return SERVE_CHECK_TOKEN;
	}
	if ((r = need_ops(c, 1, 1, "zfs send", err)))
		return r;
	if (!strchr(c->ops[0], '@'))
		return strbuf_addf(err, "zfs send: '%s' is not a snapshot", c->ops[0]), -EPERM;
	if ((r = check_name(p, ROLE_SEND, c->ops[0], true, err)))
		return r;
	for (const char *f = "iI"; *f; f++) {
		const char *from = c->value[(unsigned char)*f];
		if (from && (r = check_send_from(p, c->ops[0], from, err)))
			return r;
	}
	if (c->value['X']) {
		_cleanup_strvec_ struct strvec ex = STRVEC_INIT;
		strvec_split(&ex, c->value['X'], ",");
		for (size_t i = 0; i < ex.n; i++)
			if ((r = check_name(p, ROLE_SEND, ex.v[i], false, err)))
				return r;
	}
	return 0;
}

/* zfs receive [-sFuvnedhA] [-o P=V]... [-x P]... TARGET: -o and -x repeat, each value checked. */
static int parse_receive(const struct serve_rule *rule, const char *const *args, struct serve_cmdline *c,
			 struct strbuf *err)
{
	memset(c, 0, sizeof(*c));
	size_t i = 0;
	for (; args[i] && args[i][0] == '-' && args[i][1]; i++) {
		for (const char *f = args[i] + 1; *f; f++) {
			if (strchr(rule->valued, *f)) {
				const char *v = f[1] ? f + 1 : args[++i];
				if (!v)
					return strbuf_addf(err, "flag -%c needs a value", *f), -EPERM;
				int r = check_receive_prop(*f, v, err);
				if (r)
					return r;
				break;
			}
			if (!strchr(rule->flags, *f))
				return strbuf_addf(err, "flag -%c is not allowed", *f), -EPERM;
		}
	}
	if (!args[i] || args[i + 1] || args[i][0] == '-')
		return strbuf_addstr(err, "zfs receive: exactly one target dataset is expected"), -EPERM;
	c->ops = args + i;
	c->nops = 1;
	return 0;
}

static int check_receive(const struct serve_policy *p, const struct serve_cmdline *c, struct strbuf *err)
{
	return check_name(p, ROLE_RECEIVE, c->ops[0], false, err);
}

static int check_destroy(const struct serve_policy *p, const struct serve_cmdline *c, struct strbuf *err)
{
	const char *name = c->ops[0];
	int r;
	if (strpbrk(name, "@#"))
		return check_destroy_snaps(p, name, err);
	if ((r = check_name(p, ROLE_RECEIVE, name, false, err)))
		return r;
	for (size_t i = 0; i < p->receive_roots.n; i++)
		if (streq(name, p->receive_roots.v[i]))
			return strbuf_addf(err, "'%s' is the root this key may receive into: it is "
					   "never destroyed", name), -EPERM;
	return 0;
}

static int check_rollback(const struct serve_policy *p, const struct serve_cmdline *c, struct strbuf *err)
{
	if (!strchr(c->ops[0], '@'))
		return strbuf_addf(err, "zfs rollback: '%s' is not a snapshot", c->ops[0]), -EPERM;
	return check_name(p, ROLE_RECEIVE, c->ops[0], true, err);
}

static int check_snapshot(const struct serve_policy *p, const struct serve_cmdline *c, struct strbuf *err)
{
	int r;
	for (size_t i = 0; i < c->nops; i++) {
		if (!strchr(c->ops[i], '@'))
			return strbuf_addf(err, "zfs snapshot: '%s' is not a snapshot", c->ops[i]), -EPERM;
		if ((r = check_name(p, ROLE_ANY, c->ops[i], true, err)))
			return r;
	}
	return 0;
}

static int check_bookmark(const struct serve_policy *p, const struct serve_cmdline *c, struct strbuf *err)
{
	int r;
	if (!strchr(c->ops[1], '#'))
		return strbuf_addf(err, "zfs bookmark: '%s' is not a bookmark", c->ops[1]), -EPERM;
	for (size_t i = 0; i < 2; i++)
		if ((r = check_name(p, ROLE_SEND, c->ops[i], true, err)))
			return r;
	return 0;
}

/* zfs hold/release TAG SNAPSHOT... */
static int check_hold(const struct serve_policy *p, const struct serve_cmdline *c, struct strbuf *err)
{
	int r;
	for (size_t i = 1; i < c->nops; i++) {
		if (!strchr(c->ops[i], '@'))
			return strbuf_addf(err, "'%s' is not a snapshot", c->ops[i]), -EPERM;
		if ((r = check_name(p, ROLE_ANY, c->ops[i], true, err)))
			return r;
	}
	return 0;
}

/* A pool is allowed when a root of either kind is in it. */
static int check_pool(const struct serve_policy *p, const char *pool, struct strbuf *err)
{
	const struct strvec *all[] = { &p->send_roots, &p->receive_roots };
	for (size_t k = 0; k < 2; k++)
		for (size_t i = 0; i < all[k]->n; i++) {
			_cleanup_free_ char *rp = zfs_pool_of(all[k]->v[i]);
			if (streq(rp, pool))
				return 0;
		}
	return outside(pool, "access", err);
}

static int check_zpool_get(const struct serve_policy *p, const struct serve_cmdline *c,
			   struct strbuf *err)
{
	const char *feat = skip_prefix(c->ops[0], "feature@");
	if (!prop_list_ok(feat ? feat : c->ops[0]))
		return strbuf_addf(err, "'%s': not a property list", c->ops[0]), -EPERM;
	return check_pool(p, c->ops[1], err);
}

static int check_zpool_list(const struct serve_policy *p, const struct serve_cmdline *c,
			    struct strbuf *err)
{
	return check_pool(p, c->ops[0], err);
}

/* ---- the table ---------------------------------------------------------------------------- */

/*
 * Every remote command the server runs, and nothing else: its flags (alone,
 * or taking a value), how many operands, and the checker of the operands
 * against the policy. Flags come first, then the operands (parse_cmdline()).
 * The examples are allowed by --allow-send tank/data --allow-receive
 * backup/host1 (tests/unit/test_serve_proto.c runs every row).
 */
#define ANY SERVE_MAX_OPS
const struct serve_rule serve_rules[] = {
	/* prog    sub         alias      flags             valued  operands checker
	 *         parse (NULL: parse_cmdline), example */
	/* read-only, anywhere in a root */
	{ "zfs",   "list",     NULL,      "Hpr",            "dtosS", 1, ANY, check_list,
	  NULL, "zfs list -Hp -o name -t snapshot -d 1 tank/data" },
	{ "zfs",   "get",      NULL,      "Hpr",            "dtos", 2, ANY,  check_get,
	  NULL, "zfs get -Hp -o value receive_resume_token backup/host1/data" },
	{ "zfs",   "holds",    NULL,      "Hpr",            NULL,   1, ANY,  check_holds,
	  NULL, "zfs holds -Hp tank/data@syncoid_a" },
	{ "zfs",   "version",  NULL,      "",               NULL,   0, 0,    NULL,
	  NULL, "zfs version" },
	{ "zpool", "get",      NULL,      "Hp",             "o",    2, 2,    check_zpool_get,
	  NULL, "zpool get -Hp -o value feature@bookmarks tank" },
	{ "zpool", "list",     NULL,      "Hp",             "o",    1, 1,    check_zpool_list,
	  NULL, "zpool list -Hp -o name backup" },
	/* sending: one snapshot, or none with -t TOKEN */
	{ "zfs",   "send",     NULL,      "LPVRbcehpsvwnS", "iIXt", 0, 1,    check_send,
	  NULL, "zfs send -w -I @a tank/data@b" },
	{ "zfs",   "bookmark", NULL,      "",               NULL,   2, 2,    check_bookmark,
	  NULL, "zfs bookmark tank/data@a tank/data#a" },
	/* receiving: one target, -o and -x repeat */
	{ "zfs",   "receive",  "recv",    "sFuvnedhA",      "ox",   1, 1,    check_receive,
	  parse_receive, "zfs receive -s -F -o canmount=noauto -x compression backup/host1/data" },
	{ "zfs",   "rollback", NULL,      "r",              NULL,   1, 1,    check_rollback,
	  NULL, "zfs rollback -r backup/host1/data@a" },
	/* both */
	{ "zfs",   "destroy",  NULL,      "rdnpv",          NULL,   1, 1,    check_destroy,
	  NULL, "zfs destroy -d backup/host1/data@a,b" },
	{ "zfs",   "snapshot", NULL,      "r",              NULL,   1, ANY,  check_snapshot,
	  NULL, "zfs snapshot tank/data@syncoid_a" },
	{ "zfs",   "hold",     "release", "r",              NULL,   2, ANY,  check_hold,
	  NULL, "zfs hold -r zkeep tank/data@a" },
};
const size_t serve_nrules = ARRAY_SIZE(serve_rules);
#undef ANY

static const struct serve_rule *find_rule(const char *prog, const char *sub)
{
	for (size_t i = 0; i < serve_nrules; i++) {
		const struct serve_rule *r = &serve_rules[i];
		if (streq(r->prog, prog) && (streq(r->sub, sub) || (r->alias && streq(r->alias, sub))))
			return r;
	}
	return NULL;
}

static bool known_program(const char *prog)
{
	for (size_t i = 0; i < serve_nrules; i++)
		if (streq(serve_rules[i].prog, prog))
			return true;
	return false;
}

static int check_rule(const struct serve_rule *rule, const struct serve_policy *p,
		      const char *const *args, struct strbuf *err)
{
	struct serve_cmdline c;
	int r = rule->parse ? rule->parse(rule, args, &c, err)
			    : parse_cmdline(args, rule->flags, rule->valued, &c, err);
	if (r)
		return r;
	_cleanup_free_ char *what = rule->alias ? xasprintf("%s %s/%s", rule->prog, rule->sub, rule->alias)
						: xasprintf("%s %s", rule->prog, rule->sub);
	if ((r = need_ops(&c, rule->min_ops, rule->max_ops, what, err)))
		return r;
	return rule->check ? rule->check(p, &c, err) : 0;
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
	const struct serve_rule *rule = find_rule(argv[0], argv[1]);
	if (rule)
		return check_rule(rule, p, argv + 2, err);
	if (known_program(argv[0]))
		return strbuf_addf(err, "'%s %s' is not a request this server answers", argv[0],
				   argv[1]), -EPERM;
	strbuf_addf(err, "'%s' is not a program this server runs (only zfs and zpool)", argv[0]);
	return -EPERM;
}

bool serve_is_send(const char *const *argv)
{
	return streq(argv[0], "zfs") && streq(argv[1], "send");
}

bool serve_is_receive(const char *const *argv)
{
	return streq(argv[0], "zfs") && (streq(argv[1], "receive") || streq(argv[1], "recv"));
}

void serve_harden_receive(struct strvec *argv, enum zfs_type type)
{
	/* argv was checked (parse_receive): flag words, then the target */
	_cleanup_strvec_ struct strvec v = STRVEC_INIT, set = STRVEC_INIT, ex = STRVEC_INIT;
	_cleanup_strvec_ struct strvec given_set = STRVEC_INIT, given_ex = STRVEC_INIT;
	for (size_t i = 2; i < argv->n && argv->v[i][0] == '-'; i++)
		for (const char *f = argv->v[i] + 1; *f; f++) {
			if (*f == 'o' || *f == 'x') {
				const char *val = f[1] ? f + 1 : argv->v[++i];
				strvec_push(*f == 'o' ? &given_set : &given_ex, val);
				break;
			}
			if (*f == 'A')
				return; /* an abort receives nothing */
		}
	/* what the client gave of the overrides is exactly the override (checked) */
	recv_guard_args(type, true, (const char *const *)given_set.v,
			(const char *const *)given_ex.v, &set, &ex);
	strvec_push(&v, argv->v[0]);
	strvec_push(&v, argv->v[1]);
	strvec_push(&v, "-u");
	for (size_t i = 0; i < set.n; i++)
		strvec_pushv(&v, ARGV("-o", set.v[i]));
	for (size_t i = 0; i < ex.n; i++)
		strvec_pushv(&v, ARGV("-x", ex.v[i]));
	for (size_t i = 2; i < argv->n; i++)
		strvec_push(&v, argv->v[i]);
	strvec_release(argv);
	strvec_pushv(argv, (const char *const *)v.v);
}
