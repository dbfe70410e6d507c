/* Fuzz target: sanoid's and syncoid's command lines (cli/perl_getopt.h). */
#include "base/zkeep.h"
#include "base/strvec.h"
#include "cli/perl_getopt.h"
#include "cli/repl_cli.h"
#include "cli/sanoid_cli.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * The input is the arguments, NUL-separated; the first byte picks the table
 * and POSIXLY_CORRECT. Whatever comes in: no crash, every operand is an
 * argument given, a value-taking option has a value, and a failed parse
 * says why.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct perl_getopt *tables[] = { &sanoid_getopt, &syncoid_getopt };
	struct strvec argv = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT;
	struct perl_getopt_result r = PERL_GETOPT_RESULT_INIT;

	if (size == 0)
		return 0;
	struct perl_getopt g = *tables[data[0] & 1];
	g.posixly_correct = data[0] & 2;
	strvec_push(&argv, "prog");
	for (size_t start = 1, i = 1; i <= size && argv.n < 256; i++) {
		if (i == size || data[i] == '\0') {
			char *arg = xmalloc(i - start + 1);
			memcpy(arg, data + start, i - start);
			arg[i - start] = '\0';
			strvec_push_nodup(&argv, arg);
			start = i + 1;
		}
	}
	int rc = perl_getopt_parse(&g, (int)argv.n, argv.v, &r, &err);
	if (rc < 0 && err.len == 0)
		abort();
	for (size_t i = 0; i < r.operands.n; i++) {
		bool given = false;
		for (size_t a = 1; a < argv.n && !given; a++)
			given = streq(argv.v[a], r.operands.v[i]);
		if (!given)
			abort();
	}
	for (size_t i = 0; i < r.n; i++)
		if (strchr(r.v[i].opt->spec, '=') && !r.v[i].value)
			abort();
	perl_getopt_result_release(&r);
	strbuf_release(&err);
	strvec_release(&argv);
	return 0;
}
