#include "unit.h"
#include "base/strbuf.h"

#include <fcntl.h>

static void test_empty_is_printable(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	assert_string_equal(sb.buf, "");
	assert_int_equal(sb.len, 0);
	strbuf_release(&sb);
	assert_string_equal(sb.buf, "");
}

static void test_add_and_format(void **state)
{
	_cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
	assert_int_equal(strbuf_addstr(&sb, "pool/a"), 0);
	assert_int_equal(strbuf_addch(&sb, '@'), 0);
	assert_int_equal(strbuf_addf(&sb, "snap-%d", 42), 0);
	assert_string_equal(sb.buf, "pool/a@snap-42");
	assert_int_equal(sb.len, strlen("pool/a@snap-42"));
	/* Grow across several reallocations. */
	for (int i = 0; i < 1000; i++)
		assert_int_equal(strbuf_addstr(&sb, "0123456789"), 0);
	assert_int_equal(sb.len, 14 + 10000);
	assert_int_equal(sb.buf[sb.len], '\0');
}

static void test_cap_refuses_and_keeps_content(void **state)
{
	struct strbuf sb;
	strbuf_init(&sb, 8);
	assert_int_equal(strbuf_addstr(&sb, "12345678"), 0);
	assert_int_equal(strbuf_addch(&sb, '9'), -E2BIG);
	assert_string_equal(sb.buf, "12345678");
	assert_int_equal(strbuf_addf(&sb, "%s", "x"), -E2BIG);
	strbuf_release(&sb);
	/* The cap survives release. */
	assert_int_equal(strbuf_addstr(&sb, "123456789"), -E2BIG);
	assert_int_equal(sb.len, 0);
	strbuf_release(&sb);
}

static void test_binary_and_setlen(void **state)
{
	_cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
	assert_int_equal(strbuf_add(&sb, "a\0b", 3), 0);
	assert_int_equal(sb.len, 3);
	assert_memory_equal(sb.buf, "a\0b", 3);
	strbuf_setlen(&sb, 1);
	assert_string_equal(sb.buf, "a");
}

static void test_rtrim_and_detach(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_addstr(&sb, "value \t\n\n");
	strbuf_rtrim(&sb);
	assert_string_equal(sb.buf, "value");
	char *s = strbuf_detach(&sb);
	assert_string_equal(s, "value");
	assert_string_equal(sb.buf, "");
	free(s);
	/* Detaching an empty strbuf still yields a freeable string. */
	s = strbuf_detach(&sb);
	assert_string_equal(s, "");
	free(s);
}

static void test_read_fd_with_cap(void **state)
{
	int p[2];
	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], "hello world", 11), 11);
	close(p[1]);
	struct strbuf sb;
	strbuf_init(&sb, 5);
	assert_int_equal(strbuf_read_fd(&sb, p[0]), -E2BIG);
	assert_string_equal(sb.buf, "hello");
	close(p[0]);
	strbuf_release(&sb);

	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], "abc", 3), 3);
	close(p[1]);
	strbuf_init(&sb, 3); /* exactly the cap: not an error */
	assert_int_equal(strbuf_read_fd(&sb, p[0]), 0);
	assert_string_equal(sb.buf, "abc");
	close(p[0]);
	strbuf_release(&sb);

	assert_int_equal(strbuf_read_file(&sb, "/nonexistent/zkeep"), -ENOENT);
}

/* The one byte formatter: what pump's progress (2 decimals), replan's
 * estimates and drive's summary (1 decimal) print. */
static void test_add_bytes(void **state)
{
	_cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
	strbuf_add_bytes(&sb, 0, 2);
	strbuf_addch(&sb, '|');
	strbuf_add_bytes(&sb, 1023, 1);
	strbuf_addch(&sb, '|');
	strbuf_add_bytes(&sb, 1024, 2);
	strbuf_addch(&sb, '|');
	strbuf_add_bytes(&sb, 1536, 1);
	strbuf_addch(&sb, '|');
	strbuf_add_bytes(&sb, 5.0 * 1024 * 1024 * 1024, 1);
	strbuf_addch(&sb, '|');
	strbuf_add_bytes(&sb, 1.5 * 1024 * 1024 * 1024 * 1024, 2);
	strbuf_addch(&sb, '|');
	strbuf_add_bytes(&sb, 2048.0 * 1024 * 1024 * 1024 * 1024 * 1024, 1);
	assert_string_equal(sb.buf, "0 B|1023 B|1.00 KiB|1.5 KiB|5.0 GiB|1.50 TiB|2048.0 PiB");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_is_printable),
		cmocka_unit_test(test_add_and_format),
		cmocka_unit_test(test_cap_refuses_and_keeps_content),
		cmocka_unit_test(test_binary_and_setlen),
		cmocka_unit_test(test_rtrim_and_detach),
		cmocka_unit_test(test_read_fd_with_cap),
		cmocka_unit_test(test_add_bytes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
