#include "unit.h"
#include "base/json_out.h"

static char *dump_str(const char *s)
{
	json_t *j = json_str(s);
	char *out = json_dumps(j, JSON_ENCODE_ANY);
	json_decref(j);
	return out;
}

static void test_valid_and_null(void **state)
{
	char *s = dump_str("tank/my data@snap");
	assert_string_equal(s, "\"tank/my data@snap\"");
	free(s);
	s = dump_str("caf\xc3\xa9");
	assert_string_equal(s, "\"caf\xc3\xa9\""); /* UTF-8 passes through */
	free(s);
	s = dump_str(NULL);
	assert_string_equal(s, "null");
	free(s);
}

static void test_invalid_utf8_is_replaced_not_dropped(void **state)
{
	/* A lone continuation byte, a truncated sequence, an overlong '/'. */
	char *s = dump_str("a\x80" "b\xc3" "c\xc0\xaf");
	#define FFFD "\xef\xbf\xbd"
	assert_string_equal(s, "\"a" FFFD "b" FFFD "c" FFFD FFFD "\"");
	free(s);
	json_t *o = json_object();
	json_object_set_new(o, "name", json_str("bad\xff"));
	assert_non_null(json_object_get(o, "name"));
	json_decref(o);
}

static void test_emit_line(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_int_equal(json_emit_line(f, json_pack("{s:s, s:i}", "event", "done", "failed", 0)), 0);
	assert_int_equal(json_emit_line(f, NULL), -EINVAL);
	fclose(f);
	assert_string_equal(buf, "{\"event\":\"done\",\"failed\":0}\n");
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_and_null),
		cmocka_unit_test(test_invalid_utf8_is_replaced_not_dropped),
		cmocka_unit_test(test_emit_line),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
