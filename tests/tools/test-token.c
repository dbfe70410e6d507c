/*
 * test-token.c - make and read ZFS resume tokens in shell tests.
 *
 *   test-token make KEY=VALUE...   print a token: toname=STRING, and toguid,
 *                                  fromguid, object, offset, bytes as numbers;
 *                                  a bare KEY (embedok, compressok...) is a boolean
 *   test-token show TOKEN          the fields resume_token_parse() reads, one a line
 *
 * `make` has its own encoder (a native nvlist as the kernel packs it, zlib,
 * fletcher-4), independent of src/zfs/resume_token.c, so a hostile test can
 * forge what a peer could: a token whose toname and toguid disagree.
 */
#include "base/zkeep.h"
#include "base/parse.h"
#include "base/strbuf.h"
#include "zfs/resume_token.h"

#include <zlib.h>

static void put32(struct strbuf *b, uint32_t v)
{
	strbuf_add(b, &v, 4);
}

/* One nvpair, native: size, name_sz, reserve, nelem, type, name, value (8-aligned). */
static void add_pair(struct strbuf *b, const char *name, uint32_t type, uint32_t nelem,
		     const void *val, size_t vlen)
{
	size_t nlen = strlen(name) + 1;
	size_t size = ((16 + nlen + 7) & ~(size_t)7) + ((vlen + 7) & ~(size_t)7);
	size_t start = b->len;
	put32(b, (uint32_t)size);
	uint16_t nsz = (uint16_t)nlen, res = 0;
	strbuf_add(b, &nsz, 2);
	strbuf_add(b, &res, 2);
	put32(b, nelem);
	put32(b, type);
	strbuf_add(b, name, nlen);
	while ((b->len - start) % 8)
		strbuf_add(b, "", 1);
	if (vlen)
		strbuf_add(b, val, vlen);
	while ((b->len - start) % 8)
		strbuf_add(b, "", 1);
}

static int make(int argc, char **argv)
{
	struct strbuf nv = STRBUF_INIT;
	const uint8_t hdr[4] = { 0, __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ ? 1 : 0, 0, 0 };
	strbuf_add(&nv, hdr, 4);
	put32(&nv, 0); /* NV_VERSION */
	put32(&nv, 1); /* NV_UNIQUE_NAME */
	for (int i = 0; i < argc; i++) {
		const char *eq = strchr(argv[i], '=');
		if (!eq) {
			add_pair(&nv, argv[i], 1, 0, NULL, 0);
			continue;
		}
		_cleanup_free_ char *key = xstrndup(argv[i], (size_t)(eq - argv[i]));
		if (streq(key, "toname")) {
			add_pair(&nv, key, 9, 1, eq + 1, strlen(eq + 1) + 1);
			continue;
		}
		uint64_t v;
		if (parse_u64(eq + 1, &v) < 0) {
			fprintf(stderr, "test-token: bad number in '%s'\n", argv[i]);
			return 2;
		}
		add_pair(&nv, key, 8, 1, &v, 8);
	}
	put32(&nv, 0);
	uLongf clen = compressBound(nv.len);
	uint8_t *comp = xmalloc(clen);
	if (compress2(comp, &clen, (const Bytef *)nv.buf, nv.len, 6) != Z_OK)
		return 1;
	uint64_t a = 0;
	for (size_t i = 0; i + 4 <= clen; i += 4) {
		uint32_t w;
		memcpy(&w, comp + i, 4);
		a += w;
	}
	printf("1-%llx-%llx-", (unsigned long long)a, (unsigned long long)nv.len);
	for (size_t i = 0; i < clen; i++)
		printf("%02x", comp[i]);
	printf("\n");
	free(comp);
	strbuf_release(&nv);
	return 0;
}

static int show(const char *token)
{
	struct resume_token t;
	int r = resume_token_parse(token, &t);
	if (r < 0) {
		fprintf(stderr, "error: %s\n", strerror(-r));
		return 1;
	}
	printf("toname %s\ntoguid %llu\n", t.toname, (unsigned long long)t.toguid);
	if (t.has_fromguid)
		printf("fromguid %llu\n", (unsigned long long)t.fromguid);
	printf("object %llu\noffset %llu\nbytes %llu\nflags %u\n", (unsigned long long)t.object,
	       (unsigned long long)t.offset, (unsigned long long)t.bytes, t.flags);
	resume_token_release(&t);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && streq(argv[1], "make"))
		return make(argc - 2, argv + 2);
	if (argc == 3 && streq(argv[1], "show"))
		return show(argv[2]);
	fprintf(stderr, "usage: test-token make KEY=VALUE... | show TOKEN\n");
	return 2;
}
