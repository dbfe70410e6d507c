/*
 * base/ini_text.h - a whole INI file in memory, read with inih but without inih's fixed
 * limits.
 *
 * inih as Debian builds it cuts section names at 50 bytes without a word (two long
 * names that share their first 50 bytes become one section) and splits a line longer
 * than 200 bytes into two (a long `datasets = ...` list becomes a syntax error on the
 * next line). zkeep's configs have long dataset names as section names (sanoid.conf)
 * and long lists as values (zkeep.conf), so this reader hands inih each line with the
 * section name replaced by an index and a long value put aside, and gives the caller's
 * handler the real names and values with their line numbers.
 *
 * What it accepts, for all of zkeep's config files:
 *  - "[ name ]" headers, the name trimmed (as Perl's Config::IniFiles and inih do);
 *    an empty name or text after the "]" is an error;
 *  - "key = value" lines, key and value trimmed, up to INI_TEXT_MAX_LINE bytes;
 *  - comment lines starting with '#' or ';', blank lines, a UTF-8 byte order mark;
 *  - no continuation lines: leading white space is dropped, so an indented line is a
 *    line of its own (sanoid.conf is commonly indented);
 *  - no NUL or \001 byte, and no key before the first header.
 * Any other line is an error.
 *
 * Errors are "ORIGIN:LINE: message" in err. The handler writes its own messages (it is
 * given the line) and returns false to fail the parse; after a failure no more calls
 * are made.
 */
#ifndef ZKEEP_INI_TEXT_H
#define ZKEEP_INI_TEXT_H

#include "base/zkeep.h"
#include "base/strbuf.h"

#define INI_TEXT_MAX_LINE 4096

/* Called once for each section header with key and value NULL (a repeated header is
 * reported again; what that means is the caller's business), then once for each
 * "key = value" line of that section. */
typedef bool (*ini_text_handler)(void *user, const char *section, const char *key,
                                 const char *value, unsigned line);

/* For handlers: appends "ORIGIN:LINE: [SECTION] KEY: " (no KEY for a header) and the
 * message to err, and returns false. */
PRINTF(6, 7)
bool ini_text_fail(struct strbuf *err, const char *origin, unsigned line, const char *section,
                   const char *key, const char *fmt, ...);

/* Parse text[0..len). Returns 0, or -EINVAL with the message in err. */
int ini_text_parse(const char *text, size_t len, const char *origin, ini_text_handler handler,
                   void *user, struct strbuf *err);

#endif
