/* Unit tests: zfs/resume_token.c. */
#include "unit.h"
#include "zfs/resume_token.h"

/* The receive_resume_token of an interrupted `zfs send srcp/out@s1 | zfs receive -s`
 * (OpenZFS 2.3.2, x86_64), as tests/integration/71-hostile-token.bats makes it. */
#define REAL_FULL \
	"1-b6c5ce9e7-b8-789c636064000310a500c4ec50360710e72765a52697303030419460caa7a515a" \
	"79630c001489e0d493ea9b224b518485b703361d55f929f5e9a99c2c0b0474456b9c7fc57a406923" \
	"c27583e2f31379581a1b828b9403fbfb4c4a1d8106e170096b514c0"

/* ... and of an interrupted `zfs send -i @s1 srcp/out@s2 | zfs receive -s`. */
#define REAL_INCREMENTAL \
	"1-c711af946-e0-789c636064000310a501c49c50360710a715e5e7a69766a63040c1cabf4bd2266" \
	"e0938a80064b323a9cb4fca4a4d2e61606086aac3904f4b2b4e2d618003903c1b927c5265496a314" \
	"89c9b09abfe927c882b8a72beabfbe5cf56d34092e704cbe725e6a6323014172517e8e7979638141" \
	"bc1ed0200d1901d9b"

/* tests/tools/test-token make toname=tank/a@s2 toguid=7 fromguid=5 object=3 offset=4
 * bytes=9 embedok largeblockok compressok rawok */
#define MADE_ALL \
	"1-123fb8f234-150-789c758fc10ec2201044d7a8d5c678f7e8d19b895fe0af005d1aa5741bc018f" \
	"f5ecad2642f9d64b364de3004d840d1bc6e790ef5dce649342a8f79abd1ddd5333e380a57913b965" \
	"cff7975ec41ed6905b7813c2758fb951ed26f340960bbc6ad8d98f94ef04670fd4b18ebdbb32ed55" \
	"ffe875e6347aedc3b0b7f50a1473d907119d6de93e086fc143046a6dcdb081ed47741f0076cd122d" \
	"1"

/* REAL_FULL's nvlist changed, recompressed and re-checksummed: the XDR encoding byte, the
 * other byte order, 4 trailing bytes, toguid twice, toguid as uint32, no end marker,
 * toguid typed as a nested nvlist. */
#define BAD_XDR \
	"1-b715ca1e8-b8-789c636464000310a500c4ec50360710e72765a52697303030419460caa7a515a" \
	"79630c001489e0d493ea9b224b518485b703361d55f929f5e9a99c2c0b0474456b9c7fc57a406923" \
	"c27583e2f31379581a1b828b9403fbfb4c4a1d8106e1700976d14c1"
#define BAD_BIGENDIAN \
	"1-b5dcfe745-b8-789c63608000462056006276289b0388f393b252934b181898a06a30e4d3d28a5" \
	"34b18e00024cf86249f5459925a0ca42db899b0ea2fc94f2fcd4c6160d82322abdc63fe2b5203499" \
	"e132c9f97989bcac0505c945ca09f5f5ae2506c08b70b0095fe14bf"
#define BAD_TRAILING \
	"1-ac0ffb0d1-bc-789c636064000310a500c4ec50360710e72765a52697303030419460caa7a515a" \
	"79630c001489e0d493ea9b224b518485b703361d55f929f5e9a99c2c0b0474456b9c7fc57a406923" \
	"c27583e2f31379581a1b828b9403fbfb4c4a1d89001190000e9b514c0"
#define BAD_DUP \
	"1-a02c368f2-e0-789c636064000310a500c4ec5036071097e4a79766a63030ec119155ee31ff15a" \
	"901954757979f94959a5cc2c0c004310a533e2dad38b584010e40f26c48f2499525a9c540da829b0" \
	"9ab7e5cee00c97382e5f312735319188a8b920bf4f34b4b1c8a0de176010010431ad1"
#define BAD_WRONGTYPE \
	"1-b4f21aaeb-b8-789c636064000310a500c4ec50360710e72765a52697303030419460caa7a515a" \
	"79630c001489e0d493ea9b224b518485b703361e807a92bc94f2fcd4c6160d82322abdc63fe2b520" \
	"3499e132c9f97989bcac0505c945ca09f5f5ae2506c08b70b00963514be"
#define BAD_NOEND \
	"1-b6c53e794-b4-789c636064000310a500c4ec50360710e72765a52697303030419460caa7a515a" \
	"79630c001489e0d493ea9b224b518485b703361d55f929f5e9a99c2c0b0474456b9c7fc57a406923" \
	"c27583e2f31379581a1b828b9403fbfb4c4a1d8106c0e0043b514c0"
#define BAD_NESTED \
	"1-9ec33223f-b8-789c636064000310a500c4ec50360710e72765a52697303030419460caa7a515a" \
	"79630c001489e0d493ea9b224b518485b703361e81706e292fcf4d2cc1406863d22b2ca3de6bf223" \
	"590e439c1f27989b9a90c0cc545c905faf9a5250ec58670bb00997514cb"

static void test_real_token(void **state)
{
	(void)state;
	struct resume_token t;
	assert_int_equal(resume_token_parse(REAL_FULL, &t), 0);
	assert_string_equal(t.toname, "srcp/out@s1");
	assert_true(t.toguid == 6483555688577307836ULL);
	assert_false(t.has_fromguid);
	assert_int_equal(t.object, 2);
	assert_int_equal(t.offset, 0);
	assert_int_equal(t.bytes, 133944);
	assert_int_equal(t.flags, 0);
	resume_token_release(&t);
}

static void test_real_incremental(void **state)
{
	(void)state;
	struct resume_token t;
	assert_int_equal(resume_token_parse(REAL_INCREMENTAL, &t), 0);
	assert_string_equal(t.toname, "srcp/out@s2");
	assert_true(t.toguid == 2781939576300072050ULL);
	assert_true(t.has_fromguid);
	assert_true(t.fromguid == 13929832184042290601ULL);
	assert_int_equal(t.object, 3);
	assert_int_equal(t.bytes, 133920);
	resume_token_release(&t);
}

static void test_every_field(void **state)
{
	(void)state;
	struct resume_token t;
	assert_int_equal(resume_token_parse(MADE_ALL, &t), 0);
	assert_string_equal(t.toname, "tank/a@s2");
	assert_int_equal(t.toguid, 7);
	assert_true(t.has_fromguid);
	assert_int_equal(t.fromguid, 5);
	assert_int_equal(t.object, 3);
	assert_int_equal(t.offset, 4);
	assert_int_equal(t.bytes, 9);
	assert_int_equal(t.flags, RESUME_TOKEN_EMBEDOK | RESUME_TOKEN_LARGEBLOCKOK |
					  RESUME_TOKEN_COMPRESSOK | RESUME_TOKEN_RAWOK);
	resume_token_release(&t);
}

static void test_garbage(void **state)
{
	(void)state;
	struct resume_token t;
	const char *bad[] = { "", "-", "1", "1-", "1-0-0-", "2-0-10-00", "1-x-10-00", "1-0-10-0",
			      "1-0-10-zz", "1-00000000000000000-10-00", BAD_XDR, BAD_BIGENDIAN,
			      BAD_TRAILING, BAD_DUP, BAD_WRONGTYPE, BAD_NOEND, BAD_NESTED };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		assert_int_equal(resume_token_parse(bad[i], &t), -EINVAL);
		assert_null(t.toname);
	}
}

/* Every change of one character of a real token is refused or read to the same guids
 * (the checksum and zlib catch it); no prefix of it is read. */
static void test_mutations(void **state)
{
	(void)state;
	_cleanup_free_ char *tok = xstrdup(REAL_FULL);
	size_t n = strlen(tok);
	struct resume_token t;
	for (size_t i = 0; i < n; i++) {
		char was = tok[i];
		const char *alt = "0123456789abcdef-g";
		for (const char *a = alt; *a; a++) {
			if (*a == was)
				continue;
			tok[i] = *a;
			if (resume_token_parse(tok, &t) == 0) {
				assert_true(t.toguid == 6483555688577307836ULL);
				resume_token_release(&t);
			}
		}
		tok[i] = was;
		tok[i] = '\0';
		assert_int_equal(resume_token_parse(tok, &t), -EINVAL);
		tok[i] = was;
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_token),
		cmocka_unit_test(test_real_incremental),
		cmocka_unit_test(test_every_field),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_mutations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
