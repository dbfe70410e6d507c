/*
 * base/json_out.h - JSON for machines, with jansson.
 *
 * Commands that take --json print either one document (status) or a stream
 * of one-line events (replicate). Both go to stdout and are flushed at once
 * so a reader sees each event as it happens.
 *
 * json_str() is the way to put a string from outside (a dataset name, a
 * property value, ZFS's message) into JSON: jansson refuses invalid UTF-8
 * (json_string() returns NULL, and json_object_set_new() then silently drops
 * the key), so bytes that are not UTF-8 are replaced by U+FFFD instead.
 */
#ifndef ZKEEP_JSON_OUT_H
#define ZKEEP_JSON_OUT_H

#include "base/zkeep.h"

#include <jansson.h>

/* A new JSON string of s (lossy for invalid UTF-8), or JSON null for NULL. */
json_t *json_str(const char *s);

/* Print o compactly on one line + "\n" to f and flush; takes o's reference.
 * 0 or -EIO. */
int json_emit_line(FILE *f, json_t *o);
/* Print o indented (2) with keys in insertion order + "\n"; takes o's reference. */
int json_emit_doc(FILE *f, json_t *o);

#endif
