/* cli/perl_getopt.c - see perl_getopt.h. Follows Getopt::Long 2.52's
 * GetOptionsFromArray() and FindOption(); the comments name its steps. */
#include "base/zkeep.h"
#include "cli/perl_getopt.h"
#include "base/parse.h"

#define NAME_MAX_LEN 64
#define KEYS_MAX 128

enum opt_type { TYPE_FLAG, TYPE_STRING, TYPE_INT };

/* What Getopt::Long keeps per name ($opctl{name}): its entry and type. */
struct key {
	char name[NAME_MAX_LEN + 1]; /* lower case, as ignore_case stores it */
	const struct perl_opt *opt;  /* NULL for the automatic help and version */
	enum perl_getopt_action action;
	enum opt_type type;
	bool list;
	char cname[NAME_MAX_LEN + 1]; /* the entry's first name (CTL_CNAME) */
};

struct table {
	struct key k[KEYS_MAX];
	size_t n;
};

void perl_getopt_result_release(struct perl_getopt_result *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->v[i].value);
	free(r->v);
	r->v = NULL;
	r->n = r->alloc = 0;
	strvec_release(&r->operands);
	r->action = PERL_GETOPT_RUN;
}

size_t perl_opt_name_len(const struct perl_opt *o)
{
	return strcspn(o->spec, "|=");
}

static void lower(char *s)
{
	/* Perl's lc on a byte string changes ASCII letters only */
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

static int add_key(struct table *t, const char *name, size_t len, const char *cname,
		   size_t clen, const struct key *proto)
{
	if (t->n == KEYS_MAX || len > NAME_MAX_LEN || clen > NAME_MAX_LEN)
		return -E2BIG;
	struct key *k = &t->k[t->n++];
	*k = *proto;
	memcpy(k->name, name, len);
	k->name[len] = '\0';
	lower(k->name);
	memcpy(k->cname, cname, clen);
	k->cname[clen] = '\0';
	return 0;
}

/* ParseOptionSpec() for the specs sanoid and syncoid use. */
static int add_spec(struct table *t, const struct perl_opt *o, struct strbuf *err)
{
	const char *eq = strchr(o->spec, '=');
	const char *type = eq ? eq + 1 : "";
	struct key proto = { .opt = o, .action = PERL_GETOPT_RUN };
	size_t names_len = eq ? (size_t)(eq - o->spec) : strlen(o->spec);

	if (streq(type, "")) {
		proto.type = TYPE_FLAG;
	} else if (streq(type, "s") || streq(type, "s@")) {
		proto.type = TYPE_STRING;
		proto.list = type[1] == '@';
	} else if (streq(type, "i")) {
		proto.type = TYPE_INT;
	} else {
		strbuf_addf(err, "option spec \"%s\" is not supported\n", o->spec);
		return -EINVAL;
	}
	size_t clen = strcspn(o->spec, "|=");
	for (const char *p = o->spec; p < o->spec + names_len;) {
		size_t len = strcspn(p, "|=");
		if (len == 0 || add_key(t, p, len, o->spec, clen, &proto) < 0) {
			strbuf_addf(err, "option spec \"%s\" is not supported\n", o->spec);
			return -EINVAL;
		}
		p += len + (p[len] == '|');
	}
	return 0;
}

static const struct key *find_key(const struct table *t, const char *name)
{
	for (size_t i = 0; i < t->n; i++)
		if (streq(t->k[i].name, name))
			return &t->k[i];
	return NULL;
}

static int cmp_key(const void *a, const void *b)
{
	return strcmp(((const struct key *)a)->name, ((const struct key *)b)->name);
}

/* $opctl after the specs: auto_version and auto_help add theirs if free. */
static int build_table(const struct perl_getopt *g, struct table *t, struct strbuf *err)
{
	t->n = 0;
	for (size_t i = 0; i < g->n_opts; i++)
		if (add_spec(t, &g->opts[i], err) < 0)
			return -EINVAL;
	struct key version = { .opt = NULL, .action = PERL_GETOPT_VERSION, .type = TYPE_FLAG };
	struct key help = { .opt = NULL, .action = PERL_GETOPT_HELP, .type = TYPE_FLAG };
	if (!find_key(t, "version") && add_key(t, "version", 7, "version", 7, &version) < 0)
		return -E2BIG;
	if (!find_key(t, "help") && !find_key(t, "?") &&
	    (add_key(t, "help", 4, "help", 4, &help) < 0 || add_key(t, "?", 1, "help", 4, &help) < 0))
		return -E2BIG;
	/* FindOption() looks names up in sorted order (the ambiguity message lists them so) */
	qsort(t->k, t->n, sizeof(t->k[0]), cmp_key);
	return 0;
}

static void push_value(struct perl_getopt_result *r, const struct key *k, char *value,
		       int64_t number)
{
	if (r->n == r->alloc) {
		r->alloc = r->alloc ? 2 * r->alloc : 8;
		r->v = xreallocarray(r->v, r->alloc, sizeof(*r->v));
	}
	r->v[r->n++] = (struct perl_getopt_value){
		.opt = k->opt, .list = k->list, .value = value, .number = number,
	};
}

/*
 * Auto-abbreviation: the key `name` (lower case) stands for, or NULL.
 * *ambiguous is set when Getopt::Long would call it ambiguous (the message
 * is in err then).
 */
static const struct key *abbreviation(const struct table *t, const char *name, bool *ambiguous,
				      struct strbuf *err)
{
	size_t len = strlen(name), hits = 0, exact = 0;
	const struct key *first = NULL;
	const char *cnames[2] = { NULL, NULL };
	size_t ncnames = 0;
	bool more_cnames = false;

	*ambiguous = false;
	for (size_t i = 0; i < t->n; i++) {
		const struct key *k = &t->k[i];
		if (strncmp(k->name, name, len) != 0)
			continue;
		if (!first)
			first = k;
		hits++;
		exact += streq(k->name, name);
		/* the distinct options behind the hits (%hit) */
		bool seen = false;
		for (size_t c = 0; c < ncnames; c++)
			seen |= streq(cnames[c], k->cname);
		if (!seen) {
			if (ncnames < 2)
				cnames[ncnames++] = k->cname;
			else
				more_cnames = true;
		}
	}
	if (hits == 0)
		return NULL;
	if (exact == 1)
		return find_key(t, name);
	if (hits == 1)
		return first;
	/* Several hits: fine if all are one option, or one besides version or help. */
	if (!more_cnames && ncnames == 2) {
		for (size_t c = 0; c < 2; c++)
			if (streq(cnames[c], "version")) {
				return find_key(t, cnames[1 - c]);
			}
		for (size_t c = 0; c < 2; c++)
			if (streq(cnames[c], "help"))
				return find_key(t, cnames[1 - c]);
	}
	if (!more_cnames && ncnames == 1)
		return find_key(t, cnames[0]);
	*ambiguous = true;
	strbuf_addf(err, "Option %s is ambiguous (", name);
	const char *sep = "";
	for (size_t i = 0; i < t->n; i++)
		if (strncmp(t->k[i].name, name, len) == 0) {
			strbuf_addf(err, "%s%s", sep, t->k[i].name);
			sep = ", ";
		}
	strbuf_addstr(err, ")\n");
	return NULL;
}

/* The starter of an option ($prefix), or NULL when arg is no option. */
static const char *option_starter(const struct perl_getopt *g, const char *arg)
{
	if (strncmp(arg, "--", 2) == 0)
		return "--";
	if (arg[0] == '-')
		return streq(arg, "-") ? NULL : "-"; /* a lone "-" is an operand */
	if (arg[0] == '+' && !g->posixly_correct)
		return "+";
	return NULL;
}

static const struct perl_opt *find_extra(const struct perl_getopt *g, const char *name)
{
	_cleanup_free_ char *lc = xstrdup(name);
	lower(lc);
	for (size_t i = 0; i < g->n_extras; i++) {
		size_t len = perl_opt_name_len(&g->extras[i]);
		if (strlen(lc) == len && strncmp(g->extras[i].spec, lc, len) == 0)
			return &g->extras[i];
	}
	return NULL;
}

/*
 * FindOption() and the storing of its value: one option at argv[*i] (already
 * known to be one), consuming its value from argv when it takes one. Errors
 * go to err and count in *errors.
 */
static void one_option(const struct perl_getopt *g, const struct table *t, int argc,
		       char *const argv[], int *i, const char *starter,
		       struct perl_getopt_result *r, struct strbuf *err, unsigned *errors)
{
	const char *arg = argv[(*i)++];
	_cleanup_free_ char *name = xstrdup(arg + strlen(starter));
	const char *attached = NULL;

	/* "name=value": after "--" always, after "-" and "+" unless POSIX */
	char *eq = name[0] ? strchr(name + 1, '=') : NULL;
	if (eq && (streq(starter, "--") || !g->posixly_correct)) {
		*eq = '\0';
		attached = eq + 1;
	}

	const struct key *k;
	if (!g->posixly_correct && name[0]) {
		bool ambiguous;
		lower(name);
		k = abbreviation(t, name, &ambiguous, err);
		if (ambiguous) {
			(*errors)++;
			return;
		}
	} else {
		/* no abbreviations: the name as is, in any case ("Unknown option: X" keeps it) */
		_cleanup_free_ char *lc = xstrdup(name);
		lower(lc);
		k = find_key(t, lc);
	}
	/* zkeep's extras (flags, or "name=s"): as the script's keys from here on */
	struct key extra_key;
	const struct perl_opt *extra = k ? NULL : find_extra(g, name);
	if (extra) {
		size_t len = perl_opt_name_len(extra);
		extra_key = (struct key){
			.opt = extra, .type = extra->spec[len] == '=' ? TYPE_STRING : TYPE_FLAG,
		};
		/* lower case in the tables, and far shorter than a key's name */
		memcpy(extra_key.name, extra->spec, len < NAME_MAX_LEN ? len : NAME_MAX_LEN);
		k = &extra_key;
	}
	if (!k) {
		if (!name[0])
			strbuf_addf(err, "Missing option after %s\n", starter);
		else
			strbuf_addf(err, "Unknown option: %s\n", name);
		(*errors)++;
		return;
	}
	const char *opt = k->name; /* the messages name the key found */

	if (k->type == TYPE_FLAG) {
		if (attached) {
			strbuf_addf(err, "Option %s does not take an argument\n", opt);
			(*errors)++;
		} else if (k->action != PERL_GETOPT_RUN) {
			r->action = k->action;
		} else {
			push_value(r, k, NULL, 1);
		}
		return;
	}
	/* A mandatory value: "=value" if given (and not empty), else the next argument. */
	if (attached ? !attached[0] : *i >= argc) {
		strbuf_addf(err, "Option %s requires an argument\n", opt);
		(*errors)++;
		return;
	}
	const char *value = attached ? attached : argv[(*i)++];
	if (k->type == TYPE_STRING) {
		push_value(r, k, xstrdup(value), 0);
		return;
	}
	char text[PERL_INT_TEXT_MAX];
	int64_t number;
	if (parse_perl_int(value, text, &number) < 0) {
		strbuf_addf(err, "Value \"%s\" invalid for option %s (number expected)\n", value, opt);
		(*errors)++;
		return;
	}
	push_value(r, k, xstrdup(text), number);
}

int perl_getopt_parse(const struct perl_getopt *g, int argc, char *const argv[],
		      struct perl_getopt_result *r, struct strbuf *err)
{
	_cleanup_free_ struct table *t = xcalloc(1, sizeof(*t));
	_cleanup_strvec_ struct strvec operands = STRVEC_INIT;
	unsigned errors = 0;
	int i = 1;

	if (build_table(g, t, err) < 0)
		return -EINVAL;
	while (i < argc && r->action == PERL_GETOPT_RUN) {
		const char *arg = argv[i];
		if (streq(arg, "--")) {
			i++;
			break;
		}
		const char *starter = option_starter(g, arg);
		if (starter) {
			one_option(g, t, argc, argv, &i, starter, r, err, &errors);
			continue;
		}
		if (g->posixly_correct)
			break; /* require_order: the first operand ends the options */
		strvec_push(&operands, arg); /* permute */
		i++;
	}
	if (r->action == PERL_GETOPT_RUN) {
		strvec_pushv(&r->operands, (const char *const *)operands.v);
		for (; i < argc; i++)
			strvec_push(&r->operands, argv[i]);
	}
	return errors ? -EINVAL : 0;
}
