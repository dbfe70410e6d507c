/*
 * snapshots/sanoid_ini.h - sanoid.conf and sanoid.defaults.conf read exactly as sanoid
 * 2.3.0 reads them: with Perl's Config::IniFiles (3.000003) and its defaults.
 *
 * zkeep.conf and the drive config use base/ini_text (inih); sanoid's files need
 * Config::IniFiles' own rules, which differ from inih's in ways a config can depend on:
 *
 *  - Lines end where the first line ends: the first "\r\n", "\r", "\n" or "\x15" of the
 *    file is the line separator for the rest of it; one trailing "\r\n", "\r", "\n" or
 *    "\x15" is then cut from each line. A file with no line end at all has no lines.
 *  - Blank lines and lines whose first non-blank character is '#' or ';' are skipped.
 *  - "[ name ]" starts a section: the name is trimmed and may contain anything (even
 *    ']'), but not be empty, and only blanks may follow the last ']'. A section that
 *    comes again continues (its keys add to the first one's).
 *  - "key = value": the key is everything before the first '=', trimmed, not empty;
 *    the value is everything after it, with leading blanks cut and trailing blanks
 *    kept. Nothing is a comment after a value: "no ; paused" is the value.
 *  - "key = <<MARK" starts a value of many lines, up to a line that is exactly MARK;
 *    each line is one value, kept as written.
 *  - A key that comes again in its section (or in the section's repetition) does not
 *    replace the earlier value: it adds one, as a heredoc line does. The caller
 *    decides (sanoid uses the first and warns).
 *  - Keys and section names are case-sensitive; there are no continuation lines and no
 *    line length limit; a UTF-8 byte order mark is not skipped (it makes line 1 an
 *    error, as for Config::IniFiles).
 *  - Errors, fatal for sanoid too: any other line, a key before the first section, a
 *    heredoc without its end line, a file without a section. zkeep adds one: a NUL
 *    byte (Perl would read it; a C string cannot hold it).
 *
 * "Blank" is Perl's \s: space, \t, \n, \v, \f, \r.
 */
#ifndef ZKEEP_SANOID_INI_H
#define ZKEEP_SANOID_INI_H

#include "base/zkeep.h"
#include "base/strbuf.h"
#include "base/strvec.h"

/* Limits against hostile input (the file itself is capped by its reader). */
#define SANOID_INI_MAX_SECTIONS 10000
#define SANOID_INI_MAX_KEYS 1000 /* distinct keys per section */

struct sanoid_ini_key {
	char *name;
	unsigned line;         /* of its first "key = " line */
	struct strvec values;  /* every value in file order; empty for an empty heredoc */
};

struct sanoid_ini_section {
	char *name;
	unsigned line; /* of its first header */
	struct sanoid_ini_key *keys; /* in the order of their first appearance */
	size_t nkeys;
};

/* Sections in the order of their first header. Owns everything. */
struct sanoid_ini {
	struct sanoid_ini_section *sections;
	size_t nsections;
};
#define SANOID_INI_INIT { NULL, 0 }

/*
 * Parse text[0..len) into ini (which need not be initialized). Returns 0, or -EINVAL
 * with "ORIGIN:LINE: what is wrong" in err and ini empty. Pure: no I/O, no logging.
 */
int sanoid_ini_parse(struct sanoid_ini *ini, const char *text, size_t len, const char *origin,
		     struct strbuf *err);
void sanoid_ini_release(struct sanoid_ini *ini); /* _cleanup_release_(sanoid_ini) */

const struct sanoid_ini_section *sanoid_ini_section(const struct sanoid_ini *ini,
						    const char *name);
const struct sanoid_ini_key *sanoid_ini_key(const struct sanoid_ini_section *s,
					    const char *name);

/* Perl's \s for a byte (no locale, no Unicode rules: how sanoid's strings are read). */
static inline bool perl_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

#endif
