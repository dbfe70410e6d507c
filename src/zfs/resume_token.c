/* zfs/resume_token.c - see resume_token.h. */
#include "base/zkeep.h"
#include "zfs/resume_token.h"
#include "zfs/zfs.h"
#include "base/strbuf.h"

#include <zlib.h>

/* nvpair data types (sys/nvpair.h) this reader knows */
enum {
	NV_BOOLEAN = 1,
	NV_UINT64 = 8,
	NV_STRING = 9,
	NV_UINT64_ARRAY = 16,
	NV_NVLIST = 19,
	NV_NVLIST_ARRAY = 20,
	NV_STRING_ARRAY = 17,
	NV_LAST = 27, /* DATA_TYPE_DOUBLE */
};

#define NV_ENCODE_NATIVE 0
#define NV_UNIQUE_NAME 1
#define NVP_HDR 16 /* sizeof(nvpair_t): size, name_sz, reserve, value_elem, type */
#define MAX_PAIRS 64
#define MAX_NAME 256 /* ZFS_MAX_DATASET_NAME_LEN, with the NUL */

static size_t align8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof(v)); /* native: the byte order is checked in the header */
	return v;
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* 1 to 16 hex digits up to `stop`; *p moves past the stop character. */
static int hex_field(const char **p, char stop, uint64_t *v)
{
	const char *s = *p;
	size_t n = 0;
	*v = 0;
	for (; s[n] && s[n] != stop; n++) {
		int d = hexval(s[n]);
		if (d < 0 || n >= 16)
			return -EINVAL;
		*v = *v << 4 | (uint64_t)d;
	}
	if (n == 0 || s[n] != stop)
		return -EINVAL;
	*p = s + n + 1;
	return 0;
}

/* fletcher_4_native_varsize(): the first word is the sum of the 32-bit words. */
static uint64_t fletcher4_a(const uint8_t *buf, size_t len)
{
	uint64_t a = 0;
	for (size_t i = 0; i + 4 <= len; i += 4)
		a += get32(buf + i);
	return a;
}

static int inflate_exact(const uint8_t *in, size_t inlen, uint8_t *out, size_t outlen)
{
	z_stream zs = { 0 };
	if (inflateInit(&zs) != Z_OK)
		return -ENOMEM;
	zs.next_in = (Bytef *)in;
	zs.avail_in = (uInt)inlen;
	zs.next_out = out;
	zs.avail_out = (uInt)outlen;
	int zr = inflate(&zs, Z_FINISH);
	bool ok = zr == Z_STREAM_END && zs.avail_in == 0 && zs.total_out == outlen;
	inflateEnd(&zs);
	return ok ? 0 : -EINVAL;
}

struct seen {
	const char *names[MAX_PAIRS];
	size_t n;
};

/* One pair at buf[0..size): check it, record its name, fill t if known. */
static int read_pair(const uint8_t *buf, size_t size, struct seen *seen, struct resume_token *t)
{
	uint16_t name_sz;
	memcpy(&name_sz, buf + 4, sizeof(name_sz));
	uint32_t nelem = get32(buf + 8), type = get32(buf + 12);
	if (name_sz < 2 || name_sz > MAX_NAME || NVP_HDR + (size_t)name_sz > size)
		return -EINVAL;
	const char *name = (const char *)buf + NVP_HDR;
	if (name[name_sz - 1] != '\0' || strlen(name) != (size_t)name_sz - 1)
		return -EINVAL;
	for (size_t i = 0; i < seen->n; i++)
		if (streq(seen->names[i], name))
			return -EINVAL;
	if (seen->n >= MAX_PAIRS)
		return -EINVAL;
	seen->names[seen->n++] = name;

	/* a known key has exactly its type, or the token is not one zfs wrote */
	static const struct {
		const char *name;
		uint32_t type;
	} known[] = {
		{ "toname", NV_STRING },      { "toguid", NV_UINT64 },      { "fromguid", NV_UINT64 },
		{ "object", NV_UINT64 },      { "offset", NV_UINT64 },      { "bytes", NV_UINT64 },
		{ "embedok", NV_BOOLEAN },    { "largeblockok", NV_BOOLEAN }, { "compressok", NV_BOOLEAN },
		{ "rawok", NV_BOOLEAN },      { "savedok", NV_BOOLEAN },    { "redact_snaps", NV_UINT64_ARRAY },
	};
	for (size_t i = 0; i < ARRAY_SIZE(known); i++)
		if (streq(name, known[i].name) && type != known[i].type)
			return -EINVAL;

	size_t voff = align8(NVP_HDR + name_sz), vsz;
	const uint8_t *val = buf + voff;
	if (voff > size)
		return -EINVAL;
	switch (type) {
	case NV_BOOLEAN:
		if (nelem != 0)
			return -EINVAL;
		vsz = 0;
		break;
	case NV_UINT64:
		if (nelem != 1)
			return -EINVAL;
		vsz = 8;
		break;
	case NV_STRING: {
		const void *nul = memchr(val, '\0', size - voff);
		if (nelem != 1 || !nul)
			return -EINVAL;
		vsz = (size_t)((const uint8_t *)nul - val) + 1;
		break;
	}
	case NV_UINT64_ARRAY:
		if (nelem > (RESUME_TOKEN_MAX_PACKED / 8))
			return -EINVAL;
		vsz = (size_t)nelem * 8;
		break;
	default:
		/* nested lists and string arrays have other layouts: not in a token */
		if (type == 0 || type > NV_LAST || type == NV_NVLIST || type == NV_NVLIST_ARRAY ||
		    type == NV_STRING_ARRAY)
			return -EINVAL;
		/* other plain values: skipped by their size */
		if (size < voff)
			return -EINVAL;
		return 0;
	}
	if (align8(voff + vsz) != size)
		return -EINVAL;

	static const struct {
		const char *name;
		unsigned flag;
	} flags[] = {
		{ "embedok", RESUME_TOKEN_EMBEDOK },   { "largeblockok", RESUME_TOKEN_LARGEBLOCKOK },
		{ "compressok", RESUME_TOKEN_COMPRESSOK }, { "rawok", RESUME_TOKEN_RAWOK },
		{ "savedok", RESUME_TOKEN_SAVEDOK },
	};
	for (size_t i = 0; i < ARRAY_SIZE(flags); i++)
		if (streq(name, flags[i].name)) {
			if (type != NV_BOOLEAN)
				return -EINVAL;
			t->flags |= flags[i].flag;
			return 0;
		}
	struct {
		const char *name;
		uint64_t *v;
	} nums[] = {
		{ "toguid", &t->toguid }, { "fromguid", &t->fromguid }, { "object", &t->object },
		{ "offset", &t->offset }, { "bytes", &t->bytes },
	};
	for (size_t i = 0; i < ARRAY_SIZE(nums); i++)
		if (streq(name, nums[i].name)) {
			if (type != NV_UINT64)
				return -EINVAL;
			*nums[i].v = get64(val);
			if (nums[i].v == &t->fromguid)
				t->has_fromguid = true;
			return 0;
		}
	if (streq(name, "toname")) {
		if (type != NV_STRING || vsz > MAX_NAME)
			return -EINVAL;
		t->toname = xstrdup((const char *)val);
	}
	return 0;
}

static bool seen_name(const struct seen *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (streq(s->names[i], name))
			return true;
	return false;
}

/* A packed NV_ENCODE_NATIVE nvlist of this host's byte order. */
static int read_nvlist(const uint8_t *buf, size_t len, struct resume_token *t)
{
	const uint8_t host_endian = __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ ? 1 : 0;
	if (len < 4 + 8 + 4 || buf[0] != NV_ENCODE_NATIVE || buf[1] != host_endian || buf[2] ||
	    buf[3])
		return -EINVAL;
	if (get32(buf + 4) != 0 /* NV_VERSION */ || get32(buf + 8) != NV_UNIQUE_NAME)
		return -EINVAL;
	struct seen seen = { .n = 0 };
	size_t pos = 12;
	for (;;) {
		if (len - pos < 4)
			return -EINVAL;
		uint32_t size = get32(buf + pos);
		if (size == 0) {
			if (pos + 4 != len)
				return -EINVAL; /* trailing bytes */
			break;
		}
		/* the pair and the end marker after it */
		if (size < NVP_HDR + 8 || size % 8 || size > len - pos - 4)
			return -EINVAL;
		int r = read_pair(buf + pos, size, &seen, t);
		if (r)
			return r;
		pos += size;
	}
	static const char *const required[] = { "toname", "toguid", "object", "offset", "bytes" };
	for (size_t i = 0; i < ARRAY_SIZE(required); i++)
		if (!seen_name(&seen, required[i]))
			return -EINVAL;
	if (!strchr(t->toname, '@') || !zfs_name_valid(t->toname, true))
		return -EINVAL;
	return 0;
}

int resume_token_parse(const char *token, struct resume_token *t)
{
	memset(t, 0, sizeof(*t));
	if (!token || strnlen(token, RESUME_TOKEN_MAX_CHARS + 1) > RESUME_TOKEN_MAX_CHARS)
		return -EINVAL;
	if (!(token[0] == '1' && token[1] == '-'))
		return -EINVAL; /* ZFS_SEND_RESUME_TOKEN_VERSION */
	const char *p = token + 2;
	uint64_t cksum, packed_len;
	if (hex_field(&p, '-', &cksum) < 0 || hex_field(&p, '-', &packed_len) < 0)
		return -EINVAL;
	size_t hexlen = strlen(p);
	if (hexlen == 0 || hexlen % 2 || packed_len == 0 || packed_len > RESUME_TOKEN_MAX_PACKED)
		return -EINVAL;
	size_t clen = hexlen / 2;
	_cleanup_free_ uint8_t *comp = xmalloc(clen);
	for (size_t i = 0; i < clen; i++) {
		int hi = hexval(p[2 * i]), lo = hexval(p[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		comp[i] = (uint8_t)(hi << 4 | lo);
	}
	if (fletcher4_a(comp, clen) != cksum)
		return -EINVAL;
	_cleanup_free_ uint8_t *packed = xmalloc((size_t)packed_len);
	int r = inflate_exact(comp, clen, packed, (size_t)packed_len);
	if (r == 0)
		r = read_nvlist(packed, (size_t)packed_len, t);
	if (r) {
		resume_token_release(t);
		return -EINVAL;
	}
	return 0;
}

void resume_token_release(struct resume_token *t)
{
	free(t->toname);
	memset(t, 0, sizeof(*t));
}

int resume_token_check(const struct resume_token *t, const struct zfs_tree *tree,
		       const struct zfs_dataset *to, const char *to_where, const char *tree_where,
		       struct strbuf *why)
{
	const struct zfs_snap *snap = to ? zfs_dataset_find_guid(to, t->toguid, ZFS_TYPE_SNAPSHOT)
					 : zfs_tree_find_guid(tree, t->toguid, ZFS_TYPE_SNAPSHOT);
	if (!snap)
		return strbuf_addf(why, "sends snapshot guid %llu, which is not a snapshot %s (zfs "
				   "chooses the snapshot by guid; the name it carries, '%s', is "
				   "only a label)",
				   (unsigned long long)t->toguid, to_where, t->toname), -EPERM;
	if (t->has_fromguid &&
	    !zfs_tree_find_guid(tree, t->fromguid, ZFS_TYPE_SNAPSHOT | ZFS_TYPE_BOOKMARK))
		return strbuf_addf(why, "has an incremental source (guid %llu) that is not a snapshot "
				   "or bookmark %s", (unsigned long long)t->fromguid, tree_where), -EPERM;
	return 0;
}
