/*
 * replication/sendopts.h - syncoid's --sendoptions and --recvoptions (pure).
 *
 * The value is space-separated groups of one-letter flags, as syncoid
 * accepts them: "Lce", "w", "ux recordsize o compression=lz4". The flags o,
 * x and X take the next word as their value (receive -o k=v, receive -x k,
 * send -X datasets); inside a group such a flag takes the next word of the
 * whole string, so "ux recordsize" is -u and -x recordsize.
 *
 * Which flags a stream may carry depends on its kind (OpenZFS refuses the
 * others): a full or incremental send L P V R X b c e h p s v w; a send from
 * a bookmark L V c e w; a resumed send (-t) P V e v; a receive h o x u v.
 * sendopts_parse() refuses a flag that no stream of its side can carry (a
 * usage error); sendopts_args() then leaves out, for one stream, the flags
 * that its kind does not allow - as syncoid does - and names them in
 * *dropped so the caller can say so.
 */
#ifndef ZKEEP_SENDOPTS_H
#define ZKEEP_SENDOPTS_H

#include "base/zkeep.h"
#include "base/strbuf.h"
#include "base/strvec.h"

enum sendopts_kind {
	SENDOPTS_FULL,     /* full or incremental send from a snapshot */
	SENDOPTS_BOOKMARK, /* incremental send from a bookmark */
	SENDOPTS_RESUME,   /* zfs send -t */
	SENDOPTS_RECV,     /* zfs receive */
};

#define SENDOPTS_MAX 64 /* flags in one option string */

struct sendopts {
	bool recv;             /* parsed as --recvoptions */
	size_t n;
	char flag[SENDOPTS_MAX];
	char *value[SENDOPTS_MAX]; /* for o, x, X; else NULL (owned) */
};
#define SENDOPTS_INIT { .recv = false, .n = 0 }

/* Parse s (may be NULL or empty) into o. 0 or -EINVAL with a message in err. */
int sendopts_parse(const char *s, bool recv, struct sendopts *o, struct strbuf *err);
void sendopts_release(struct sendopts *o);

/* Whether flag c is in o. */
bool sendopts_has(const struct sendopts *o, char c);

/*
 * The names of the properties --recvoptions sets (o k=v) or excludes (x k),
 * the operator's own, each appended to names once. Options that do not
 * parse name none (the command itself says what is wrong).
 */
void recvopts_prop_names(const char *recvoptions, struct strvec *names);
/* The same as the operator wrote them: "k=v" for o, "k" for x. */
void recvopts_prop_words(const char *recvoptions, struct strvec *words);

/*
 * The one-letter flags of o allowed for kind, without o/x/X, as a string
 * ("Lce", "" when none) into flags; the value-taking ones go to the vectors:
 * receive -o values to set_props, receive -x to exclude_props, send -X to
 * send_excludes (any may be NULL when the caller knows they cannot occur).
 * Flags not allowed for kind are appended to dropped (may be NULL).
 */
void sendopts_args(const struct sendopts *o, enum sendopts_kind kind, struct strbuf *flags,
		   struct strvec *set_props, struct strvec *exclude_props,
		   struct strvec *send_excludes, struct strbuf *dropped);

/* Whether one-letter flag c may appear in a stream of this kind. */
bool sendopts_allowed(enum sendopts_kind kind, char c);

#endif
