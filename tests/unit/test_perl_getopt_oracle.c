/*
 * test_perl_getopt_oracle.c - the property test of cli/perl_getopt: thousands
 * of generated command lines, parsed by zkeep with sanoid's and syncoid's
 * tables and by Perl's own Getopt::Long with the scripts' GetOptions lists
 * (getopt_oracle.pl), must give the same options, values, operands,
 * messages and help/version verdicts.
 *
 *   test-perl-getopt-oracle ORACLE.pl [COUNT [SEED]]
 *
 * Exit 0 when all agree, 1 with the differing command lines printed, 77
 * (skipped) when perl or its Getopt::Long is missing.
 */
#include "base/zkeep.h"
#include "base/parse.h"
#include "base/spawn.h"
#include "base/strbuf.h"
#include "base/strvec.h"
#include "cli/perl_getopt.h"
#include "cli/repl_cli.h"
#include "cli/sanoid_cli.h"

#define SKIP 77
#define DEFAULT_COUNT 4000 /* per personality */
#define DEFAULT_SEED 20260303

static uint64_t rng_state;

static uint64_t rnd(void)
{
	/* xorshift64*: the same lines on every machine for one seed */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1DULL;
}

static size_t pick(size_t n) { return (size_t)(rnd() % n); }
static bool chance(unsigned percent) { return pick(100) < percent; }

/* Values: empty, option-like, numbers Perl takes and refuses, odd bytes. */
static const char *const values[] = {
	"", "x", "pool/a", "host:pool/b", "-r", "--debug", "--", "-", "+", "-?", "--help", "0", "22",
	"-5", "+7", "007", "0_1", "_5", "1__", "-_3", "12a", "1e3", " 5", "5 ", "0x10", "5\n",
	"5\n\n", "18446744073709551615", "18446744073709551616", "-9223372036854775808",
	"-9223372036854775809", "99999999999999999999999", "-0", "a=b", "with space", "lz4",
	"\xc3\xa9t\xc3\xa9", "=", "==x", "%41",
};

/* Operands and other arguments that are no options (or odd ones). */
static const char *const others[] = {
	"pool/a", "pool/b", "host:tank/x", "user@host:tank/y", "-", "--", "", "x", "+", "---",
	"--=x", "-=", "-=5", "---verbose", "+-x", "-\n", "--\n", "a b",
};

/* Names that are no option of either script. */
static const char *const unknown[] = {
	"bogus", "no-bogus", "nodebug", "no-debug", "v", "h", "x", "dry", "verbose-x", "exclude-", "sshportx",
};

struct names {
	struct strvec all;  /* every name and alias, plus help, version and ? */
	struct strvec extras;
};

static void collect_names(const struct perl_getopt *g, struct names *n)
{
	strvec_init(&n->all);
	strvec_init(&n->extras);
	for (size_t i = 0; i < g->n_opts; i++) {
		const char *spec = g->opts[i].spec;
		for (const char *p = spec; *p && *p != '=';) {
			size_t len = strcspn(p, "|=");
			_cleanup_free_ char *name = xmalloc(len + 1);
			memcpy(name, p, len);
			name[len] = '\0';
			strvec_push(&n->all, name);
			p += len + (p[len] == '|');
		}
	}
	strvec_pushv(&n->all, ARGV("help", "version", "?"));
	/* an extra with a value (zkeep's --jobs=N) is none of Getopt::Long's business:
	 * Perl leaves its value as an operand; test_perl_getopt.c tests it */
	for (size_t i = 0; i < g->n_extras; i++)
		if (!strchr(g->extras[i].spec, '='))
			strvec_push(&n->extras, g->extras[i].spec);
}

/* A spelling of a name: whole or a prefix, in mixed case now and then. */
static void spell(struct strbuf *sb, const char *name, bool may_abbreviate)
{
	size_t len = strlen(name);
	if (may_abbreviate && chance(35))
		len = 1 + pick(len);
	bool mixed = chance(20);
	for (size_t i = 0; i < len; i++) {
		char ch = name[i];
		if (mixed && ch >= 'a' && ch <= 'z' && chance(50))
			ch = (char)(ch - 'a' + 'A');
		strbuf_addch(sb, ch);
	}
}

static const char *starter(void)
{
	unsigned r = (unsigned)pick(100);
	return r < 50 ? "--" : r < 85 ? "-" : r < 95 ? "+" : "---";
}

/* One generated command line (argv[0] included). */
static void generate(const struct names *n, struct strvec *argv)
{
	size_t groups = pick(7);
	strvec_push(argv, "prog");
	for (size_t g = 0; g < groups; g++) {
		_cleanup_strbuf_ struct strbuf tok = STRBUF_INIT;
		unsigned kind = (unsigned)pick(100);
		if (kind < 60) { /* an option of the script, maybe with a value */
			strbuf_addstr(&tok, starter());
			spell(&tok, n->all.v[pick(n->all.n)], true);
			if (chance(25))
				strbuf_addf(&tok, "=%s", values[pick(ARRAY_SIZE(values))]);
			strvec_push(argv, tok.buf);
			if (chance(60))
				strvec_push(argv, values[pick(ARRAY_SIZE(values))]);
		} else if (kind < 68) { /* zkeep's extras: never with "=value" (see the oracle) */
			strbuf_addstr(&tok, starter());
			spell(&tok, n->extras.v[pick(n->extras.n)], true);
			strvec_push(argv, tok.buf);
		} else if (kind < 76) {
			strbuf_addstr(&tok, starter());
			spell(&tok, unknown[pick(ARRAY_SIZE(unknown))], false);
			if (chance(20))
				strbuf_addf(&tok, "=%s", values[pick(ARRAY_SIZE(values))]);
			strvec_push(argv, tok.buf);
		} else {
			strvec_push(argv, others[pick(ARRAY_SIZE(others))]);
		}
	}
}

/* Percent-encoding, the oracle's enc(). */
static void enc(struct strbuf *sb, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		    strchr("_.,:@+/-", *p))
			strbuf_addch(sb, (char)*p);
		else
			strbuf_addf(sb, "%%%02X", *p);
	}
}

struct hash_entry {
	char name[80];
	bool list;
	struct strvec values;
};

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct hash_entry *)a)->name, ((const struct hash_entry *)b)->name);
}

/* zkeep's parse in the oracle's words: the %args GetOptions would fill. */
static void canonical(const struct perl_getopt *g, char *const argv[], int argc, struct strbuf *out)
{
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	struct perl_getopt_result r = PERL_GETOPT_RESULT_INIT;
	int rc = perl_getopt_parse(g, argc, argv, &r, &err);
	struct hash_entry h[64];
	size_t nh = 0;

	if (err.len) {
		strbuf_addstr(out, "E:");
		enc(out, err.buf);
		strbuf_addch(out, ' ');
	}
	if (r.action != PERL_GETOPT_RUN) {
		strbuf_addstr(out, r.action == PERL_GETOPT_HELP ? "A:help" : "A:version");
		perl_getopt_result_release(&r);
		return;
	}
	strbuf_addstr(out, rc < 0 ? "R:fail" : "R:ok");
	for (size_t i = 0; i < r.n; i++) {
		const struct perl_getopt_value *v = &r.v[i];
		size_t len = perl_opt_name_len(v->opt), j;
		for (j = 0; j < nh; j++)
			if (strlen(h[j].name) == len && strncmp(h[j].name, v->opt->spec, len) == 0)
				break;
		if (j == nh) {
			nh++;
			memcpy(h[j].name, v->opt->spec, len);
			h[j].name[len] = '\0';
			strvec_init(&h[j].values);
		}
		h[j].list = v->list;
		if (!v->list)
			strvec_release(&h[j].values); /* a scalar: the last one given */
		strvec_push(&h[j].values, v->value ? v->value : "1");
	}
	qsort(h, nh, sizeof(h[0]), cmp_entry);
	for (size_t j = 0; j < nh; j++) {
		strbuf_addstr(out, " O:");
		enc(out, h[j].name);
		strbuf_addch(out, '=');
		if (h[j].list)
			strbuf_addch(out, '[');
		for (size_t k = 0; k < h[j].values.n; k++) {
			if (k)
				strbuf_addch(out, ',');
			enc(out, h[j].values.v[k]);
		}
		if (h[j].list)
			strbuf_addch(out, ']');
		strvec_release(&h[j].values);
	}
	for (size_t k = 0; k < r.operands.n; k++) {
		strbuf_addstr(out, " P:");
		enc(out, r.operands.v[k]);
	}
	perl_getopt_result_release(&r);
}

struct personality {
	const char *name;
	const struct perl_getopt *g;
};

/* Command lines everybody should try: the bugs of issue #14. */
static const char *const fixed[][8] = {
	{ "syncoid", "pool/a", "pool/b", "-r" },
	{ "syncoid", "-R", "--Recursive", "a", "b" },
	{ "sanoid", "--CRON" },
	{ "sanoid", "-?" },
	{ "syncoid", "-?" },
	{ "sanoid", "-v" },
	{ "sanoid", "--ve" },
	{ "sanoid", "--cron", "-v" },
	{ "syncoid", "--se=x", "a", "b" },
	{ "syncoid", "--no-cl", "a", "b" },
	{ "syncoid", "--identifier=", "a", "b" },
	{ "syncoid", "--debug", "--quiet", "a", "b" },
	{ "sanoid", "--cache-ttl=0" },
	{ "syncoid", "--exclude=a", "--exclude-datasets=b", "a", "b" },
	{ "sanoid", "--cron", "extra" },
	{ "syncoid", "--sshport", "x", "a", "b" },
	{ "syncoid", "--dry-run", "--serve", "--no-clone-rollback", "a", "b" },
	{ "sanoid", "--no-confine", "--configdir", "/etc/x" },
};

static void add_line(struct strbuf *input, struct strvec *lines, const char *personality,
		     bool posix, const struct strvec *argv)
{
	_cleanup_strbuf_ struct strbuf l = STRBUF_INIT;
	strbuf_addf(input, "%s %s", personality, posix ? "p" : "d");
	for (size_t i = 1; i < argv->n; i++) {
		strbuf_addstr(input, " x");
		for (const unsigned char *p = (const unsigned char *)argv->v[i]; *p; p++)
			strbuf_addf(input, "%02x", *p);
	}
	strbuf_addch(input, '\n');
	/* how the line reads in a failure report */
	strbuf_addf(&l, "%s%s", posix ? "POSIXLY_CORRECT=1 " : "", personality);
	for (size_t i = 1; i < argv->n; i++) {
		strbuf_addstr(&l, " '");
		enc(&l, argv->v[i]);
		strbuf_addch(&l, '\'');
	}
	strvec_push(lines, l.buf);
}

static bool have_perl_getopt(const char *const *env)
{
	struct spawn_req req = { .argv = ARGV("perl", "-MGetopt::Long", "-e", "1"), .env = env,
				 .in = SPAWN_NULL, .out = SPAWN_NULL, .err = SPAWN_NULL };
	int code;
	return spawn_run(&req, NULL, 0, NULL, NULL, &code) == 0 && code == 0;
}

int main(int argc, char **argv)
{
	const struct personality personalities[] = {
		{ "sanoid", &sanoid_getopt },
		{ "syncoid", &syncoid_getopt },
	};
	_cleanup_strvec_ struct strvec env = STRVEC_INIT, lines = STRVEC_INIT, expect = STRVEC_INIT;
	_cleanup_strbuf_ struct strbuf input = STRBUF_INIT, out = STRBUF_INIT, err = STRBUF_INIT;
	uint64_t count = DEFAULT_COUNT, seed = DEFAULT_SEED;
	unsigned failures = 0;
	int code;

	if (argc < 2 || (argc > 2 && parse_u64(argv[2], &count) < 0) ||
	    (argc > 3 && parse_u64(argv[3], &seed) < 0)) {
		fprintf(stderr, "usage: %s ORACLE.pl [COUNT [SEED]]\n", argv[0]);
		return 2;
	}
	rng_state = seed ? seed : 1;
	spawn_env_default(&env);
	if (!have_perl_getopt((const char *const *)env.v)) {
		printf("perl with Getopt::Long not found: skipped\n");
		return SKIP;
	}

	/* the tables, so the oracle can check them against the scripts */
	for (size_t p = 0; p < ARRAY_SIZE(personalities); p++) {
		const struct perl_getopt *g = personalities[p].g;
		strbuf_addf(&input, "spec %s", personalities[p].name);
		for (size_t i = 0; i < g->n_opts; i++)
			strbuf_addf(&input, " %s", g->opts[i].spec);
		strbuf_addf(&input, "\nextras %s", personalities[p].name);
		for (size_t i = 0; i < g->n_extras; i++) {
			if (strchr(g->extras[i].spec, '='))
				continue; /* see collect_names() */
			strbuf_addf(&input, " %s", g->extras[i].spec);
		}
		strbuf_addch(&input, '\n');
	}

	for (size_t f = 0; f < ARRAY_SIZE(fixed); f++) {
		_cleanup_strvec_ struct strvec av = STRVEC_INIT;
		size_t p = streq(fixed[f][0], "sanoid") ? 0 : 1;
		strvec_push(&av, "prog");
		for (size_t i = 1; i < ARRAY_SIZE(fixed[f]) && fixed[f][i]; i++)
			strvec_push(&av, fixed[f][i]);
		for (int posix = 0; posix < 2; posix++) {
			struct perl_getopt g = *personalities[p].g;
			g.posixly_correct = posix;
			_cleanup_strbuf_ struct strbuf c = STRBUF_INIT;
			canonical(&g, av.v, (int)av.n, &c);
			strvec_push(&expect, c.buf);
			add_line(&input, &lines, fixed[f][0], posix, &av);
		}
	}
	for (size_t p = 0; p < ARRAY_SIZE(personalities); p++) {
		struct names n;
		collect_names(personalities[p].g, &n);
		for (uint64_t i = 0; i < count; i++) {
			_cleanup_strvec_ struct strvec av = STRVEC_INIT;
			_cleanup_strbuf_ struct strbuf c = STRBUF_INIT;
			struct perl_getopt g = *personalities[p].g;
			g.posixly_correct = chance(15);
			generate(&n, &av);
			canonical(&g, av.v, (int)av.n, &c);
			strvec_push(&expect, c.buf);
			add_line(&input, &lines, personalities[p].name, g.posixly_correct, &av);
		}
		strvec_release(&n.all);
		strvec_release(&n.extras);
	}

	struct spawn_req req = { .argv = ARGV("perl", argv[1]), .env = (const char *const *)env.v,
				 .in = SPAWN_PIPE, .out = SPAWN_PIPE, .err = SPAWN_PIPE };
	if (spawn_run(&req, input.buf, input.len, &out, &err, &code) < 0 || code != 0) {
		fprintf(stderr, "the oracle failed (exit %d):\n%s", code, err.buf);
		return 1;
	}
	_cleanup_strvec_ struct strvec got = STRVEC_INIT;
	for (char *p = out.buf, *nl; (nl = strchr(p, '\n')); p = nl + 1) {
		*nl = '\0';
		strvec_push(&got, p);
	}
	if (got.n != expect.n) {
		fprintf(stderr, "the oracle answered %zu lines for %zu command lines\n%s", got.n,
			expect.n, err.buf);
		return 1;
	}
	for (size_t i = 0; i < expect.n; i++) {
		if (streq(expect.v[i], got.v[i]))
			continue;
		if (++failures <= 25)
			printf("DIFFERS: %s\n  zkeep: %s\n  perl:  %s\n", lines.v[i], expect.v[i], got.v[i]);
	}
	/* what the lines exercised, so a generator that stopped reaching a case shows */
	static const char *const kinds[] = { "R:ok", "R:fail", "A:help", "A:version", "ambiguous",
					      "requires%20an", "number%20expected", "does%20not%20take",
					      "Unknown%20option", "Missing%20option", " P:" };
	for (size_t k = 0; k < ARRAY_SIZE(kinds); k++) {
		size_t hits = 0;
		for (size_t i = 0; i < got.n; i++)
			hits += strstr(got.v[i], kinds[k]) != NULL;
		printf("%s %zu%s", kinds[k], hits, k + 1 < ARRAY_SIZE(kinds) ? ", " : "\n");
	}
	printf("%zu command lines (seed %" PRIu64 "): %zu agree with Perl's Getopt::Long, %u differ\n",
	       expect.n, seed, expect.n - failures, failures);
	return failures ? 1 : 0;
}
