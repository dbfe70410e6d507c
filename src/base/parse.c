/* parse.c - see parse.h. The only file allowed to call strtoull. */
#define ZKEEP_NUMBER_PARSER
#include "base/parse.h"

#include <ctype.h>
#include <strings.h>

int parse_u64_n(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	if (len == 0)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		unsigned d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

int parse_u64(const char *s, uint64_t *out)
{
	return parse_u64_n(s, strlen(s), out);
}

int parse_c_unsigned(const char *s, int base, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, base);
	if (end == s || *end)
		return -EINVAL;
	if (errno)
		return -errno;
	*out = v;
	return 0;
}

int parse_i64(const char *s, int64_t *out)
{
	bool neg = false;
	uint64_t v;
	if (*s == '-' || *s == '+')
		neg = *s++ == '-';
	int r = parse_u64(s, &v);
	if (r < 0)
		return r;
	if (neg) {
		if (v > (uint64_t)INT64_MAX + 1)
			return -ERANGE;
		*out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
	} else {
		if (v > (uint64_t)INT64_MAX)
			return -ERANGE;
		*out = (int64_t)v;
	}
	return 0;
}

int parse_uint_range(const char *s, unsigned min, unsigned max, unsigned *out)
{
	uint64_t v;
	int r = parse_u64(s, &v);
	if (r < 0)
		return r;
	if (v < min || v > max)
		return -ERANGE;
	*out = (unsigned)v;
	return 0;
}

static int mul_check(uint64_t a, uint64_t b, uint64_t *out)
{
	if (b && a > UINT64_MAX / b)
		return -ERANGE;
	*out = a * b;
	return 0;
}

int parse_size(const char *s, uint64_t *out)
{
	size_t digits = 0;
	uint64_t v, mult = 1;
	while (s[digits] >= '0' && s[digits] <= '9')
		digits++;
	int r = parse_u64_n(s, digits, &v);
	if (r < 0)
		return r;
	const char *suf = s + digits;
	if (*suf) {
		switch (toupper((unsigned char)*suf)) {
		case 'B': mult = 1; break;
		case 'K': mult = 1ULL << 10; break;
		case 'M': mult = 1ULL << 20; break;
		case 'G': mult = 1ULL << 30; break;
		case 'T': mult = 1ULL << 40; break;
		case 'P': mult = 1ULL << 50; break;
		default: return -EINVAL;
		}
		suf++;
		if (mult > 1 && (strcasecmp(suf, "iB") == 0 || strcasecmp(suf, "B") == 0))
			suf += strlen(suf);
		if (*suf)
			return -EINVAL;
	}
	return mul_check(v, mult, out);
}

int parse_duration(const char *s, uint64_t bare_unit, uint64_t *seconds)
{
	uint64_t total = 0;
	if (!*s)
		return -EINVAL;
	while (*s) {
		size_t digits = 0;
		uint64_t v, unit, part;
		while (s[digits] >= '0' && s[digits] <= '9')
			digits++;
		int r = parse_u64_n(s, digits, &v);
		if (r < 0)
			return r;
		s += digits;
		switch (*s) {
		case 'y': unit = 365 * 86400ULL; break;
		case 'w': unit = 7 * 86400ULL; break;
		case 'd': unit = 86400; break;
		case 'h': unit = 3600; break;
		case 'm': unit = 60; break;
		case 's': unit = 1; break;
		case '\0': unit = bare_unit; s--; break;
		default: return -EINVAL;
		}
		s++;
		if (mul_check(v, unit, &part) < 0 || total > UINT64_MAX - part)
			return -ERANGE;
		total += part;
	}
	*seconds = total;
	return 0;
}

int parse_perl_int(const char *s, char text[PERL_INT_TEXT_MAX], int64_t *value)
{
	_cleanup_free_ char *digits = xmalloc(strlen(s) + 1);
	size_t n = 0;
	bool neg = false;
	const char *p = s;

	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	while (*p == '_')
		p++;
	if (*p < '0' || *p > '9')
		return -EINVAL;
	for (; *p; p++) {
		if (*p >= '0' && *p <= '9') {
			if (n || *p != '0') /* leading zeros say nothing */
				digits[n++] = *p;
		} else if (*p != '_') {
			break;
		}
	}
	if (*p && !(p[0] == '\n' && p[1] == '\0'))
		return -EINVAL;
	digits[n] = '\0';

	uint64_t mag;
	if (n == 0) {
		mag = 0;
	} else if (parse_u64(digits, &mag) < 0) {
		/* past 64 bits Perl keeps a double and prints 15 digits */
		double d = strtod(digits, NULL);
		snprintf(text, PERL_INT_TEXT_MAX, "%.15g", neg ? -d : d);
		*value = neg ? INT64_MIN : INT64_MAX;
		return 0;
	}
	if (neg && mag > (uint64_t)INT64_MAX + 1) {
		snprintf(text, PERL_INT_TEXT_MAX, "%.15g", -(double)mag);
		*value = INT64_MIN;
		return 0;
	}
	if (neg && mag) {
		snprintf(text, PERL_INT_TEXT_MAX, "-%" PRIu64, mag);
		*value = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag;
	} else {
		snprintf(text, PERL_INT_TEXT_MAX, "%" PRIu64, mag);
		*value = mag > INT64_MAX ? INT64_MAX : (int64_t)mag;
	}
	return 0;
}

int parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "1", "true", "yes", "on" };
	static const char *const no[] = { "0", "false", "no", "off" };
	for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -EINVAL;
}

char *span_dup(struct span a)
{
	return xstrndup(a.s, a.len);
}

int zcursor_next(struct zcursor *c, struct zfields *out)
{
	while (c->p < c->end) {
		const char *nl = memchr(c->p, '\n', (size_t)(c->end - c->p));
		const char *eol = nl ? nl : c->end;
		const char *p = c->p;
		c->p = nl ? nl + 1 : c->end;
		c->line++;
		if (eol == p)
			continue; /* empty line */
		out->n = 0;
		for (;;) {
			const char *tab = memchr(p, '\t', (size_t)(eol - p));
			const char *fe = tab ? tab : eol;
			if (out->n == ZFIELDS_MAX)
				return -EINVAL;
			out->f[out->n++] = (struct span){ p, (size_t)(fe - p) };
			if (!tab)
				break;
			p = tab + 1;
		}
		return 1;
	}
	return 0;
}

int zfield_u64(const struct zfields *z, size_t i, uint64_t *out)
{
	if (i >= z->n)
		return -EINVAL;
	if (span_is_none(z->f[i]))
		return -ENODATA;
	return parse_u64_n(z->f[i].s, z->f[i].len, out);
}
