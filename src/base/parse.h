/*
 * base/parse.h - the one place where text becomes numbers, and the cursor over
 * `zfs -Hp` / `zpool -Hp` output.
 *
 * Every number zkeep reads (command output, config values, options) goes
 * through these functions: the whole string must be consumed, the value must
 * fit, no sign or space is accepted unless asked for. banned.h forbids
 * atoi/strtol/sscanf everywhere else.
 *
 * `zfs ... -H` prints one record per line with tab-separated fields and `-p`
 * prints exact numbers; an unset value is "-". A field never contains a tab
 * or a newline except a dataset name, which ZFS forbids to contain either.
 * The cursor splits such output in place, without copying.
 */
#ifndef ZKEEP_PARSE_H
#define ZKEEP_PARSE_H

#include "base/zkeep.h"

/* Decimal unsigned 64-bit integer, whole string. 0 or -EINVAL / -ERANGE. */
int parse_u64(const char *s, uint64_t *out);
/* Same on a span that need not be NUL-terminated. */
int parse_u64_n(const char *s, size_t len, uint64_t *out);
/*
 * A whole string as C's strtoull() reads it in base (0: also 0x and leading-0
 * forms), leading blanks and a sign included: only to read files that other
 * tools read that way and zkeep must read no narrower (/etc/subuid).
 */
int parse_c_unsigned(const char *s, int base, uint64_t *out);
/* Decimal signed 64-bit integer with optional leading '-' or '+'. */
int parse_i64(const char *s, int64_t *out);
/* Decimal unsigned int within [min, max]; -ERANGE outside. */
int parse_uint_range(const char *s, unsigned min, unsigned max, unsigned *out);
/*
 * Size with an optional binary suffix, as mbuffer and zfs accept them:
 * "16M", "1.5G" is refused (integers only), "512k", "1T", plain bytes.
 * Suffixes K M G T P (case-insensitive, optional trailing "B"/"iB").
 */
int parse_size(const char *s, uint64_t *out);
/*
 * Duration with one of the suffixes y w d h m s, as in sanoid's warn/crit
 * values ("90m", "28h", "32d"). A bare number is taken in `bare_unit`
 * seconds (callers decide what a suffix-less value means). y = 365 d,
 * w = 7 d. Several parts ("1d12h") are summed.
 */
int parse_duration(const char *s, uint64_t bare_unit, uint64_t *seconds);
/*
 * An integer option value as Perl's Getopt::Long accepts it for "=i": the
 * whole string matches [-+]?_*[0-9][0-9_]* (underscores anywhere after the
 * sign, one trailing newline allowed, as Perl's "$" does). On success `text`
 * gets the number as Perl then prints it (0+$arg: "007" -> "7", "-0" -> "0",
 * beyond 64 bits the "%.15g" of the double, "1e+23") and *value the number
 * clamped to int64. -EINVAL when it does not match. `text` holds 32 bytes.
 */
#define PERL_INT_TEXT_MAX 32
int parse_perl_int(const char *s, char text[PERL_INT_TEXT_MAX], int64_t *value);
/* Boolean as sanoid accepts it: 1/true/yes/on, 0/false/no/off, any case. */
int parse_bool(const char *s, bool *out);

/* A span of bytes inside a larger buffer (not NUL-terminated). */
struct span {
	const char *s;
	size_t len;
};

static inline bool span_eq(struct span a, const char *b)
{
	size_t n = strlen(b);
	return a.len == n && memcmp(a.s, b, n) == 0;
}
/* A NUL-terminated copy (caller frees). */
char *span_dup(struct span a);
/* "-" (ZFS's "no value") */
static inline bool span_is_none(struct span a) { return a.len == 1 && a.s[0] == '-'; }

#define ZFIELDS_MAX 64

/* One parsed line: up to ZFIELDS_MAX fields. */
struct zfields {
	size_t n;
	struct span f[ZFIELDS_MAX];
};

/* A cursor over a buffer of lines. */
struct zcursor {
	const char *p, *end;
	unsigned line; /* 1-based number of the line last returned */
};

static inline void zcursor_init(struct zcursor *c, const char *buf, size_t len)
{
	c->p = buf;
	c->end = buf + len;
	c->line = 0;
}

/*
 * Next line split at tabs. Returns 1 with *out filled, 0 at the end, or
 * -EINVAL when the line has more than ZFIELDS_MAX fields. Empty lines are
 * skipped; a trailing "\r" is not special (zfs never prints one).
 */
int zcursor_next(struct zcursor *c, struct zfields *out);

/* Field i as u64; -ENODATA for "-", -EINVAL/-ERANGE for garbage. */
int zfield_u64(const struct zfields *z, size_t i, uint64_t *out);

#endif
