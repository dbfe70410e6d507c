/*
 * zfs/resume_token.h - an exact reader of ZFS resume tokens (receive_resume_token,
 * `zfs send -t`).
 *
 * A token is "1-CKSUM-LEN-HEX": HEX is the zlib-compressed nvlist the kernel
 * packed (NV_ENCODE_NATIVE, in the byte order of the host that wrote it), LEN
 * its length unpacked, CKSUM the first word of the fletcher-4 of the
 * compressed bytes (OpenZFS: get_receive_resume_token() in dsl_dataset.c
 * writes it, zfs_send_resume_token_to_nvlist() in libzfs reads it).
 *
 * `zfs send -t` chooses the snapshot it sends by `toguid` (searching the whole
 * pool of `toname`) and the incremental source by `fromguid`, so what a token
 * sends is decided by those guids, never by the name it carries. Whoever
 * checks a token from outside (a serve client, a target's property) parses it
 * here and checks the guids.
 *
 * The reader refuses (-EINVAL) anything it does not read exactly: another
 * version or encoding (XDR, the other byte order), a bad checksum, a length
 * that does not match, trailing bytes, a name repeated, a known key of the
 * wrong type, nested nvlists, over-long names. Unknown keys of plain types are
 * skipped (a newer OpenZFS may add some; none of them chooses a snapshot).
 */
#ifndef ZKEEP_RESUME_TOKEN_H
#define ZKEEP_RESUME_TOKEN_H

#include "base/zkeep.h"

#define RESUME_TOKEN_MAX_CHARS 16384 /* the whole token */
#define RESUME_TOKEN_MAX_PACKED 65536 /* the nvlist unpacked */

enum {
	RESUME_TOKEN_EMBEDOK = 1 << 0,
	RESUME_TOKEN_LARGEBLOCKOK = 1 << 1,
	RESUME_TOKEN_COMPRESSOK = 1 << 2,
	RESUME_TOKEN_RAWOK = 1 << 3,
	RESUME_TOKEN_SAVEDOK = 1 << 4,
};

struct resume_token {
	char *toname;          /* what the token says it sends ("pool/fs@snap"): a label only */
	uint64_t toguid;       /* the snapshot it sends */
	uint64_t fromguid;     /* the incremental source (snapshot or bookmark), when has_fromguid */
	bool has_fromguid;
	uint64_t object, offset, bytes; /* where the send resumes */
	unsigned flags;        /* RESUME_TOKEN_* */
};

/* Parse token into *t (zeroed first; release with resume_token_release). 0 or -EINVAL. */
int resume_token_parse(const char *token, struct resume_token *t);
void resume_token_release(struct resume_token *t);

struct zfs_tree;
struct zfs_dataset;
struct strbuf;

/*
 * The rule for a token from outside: what it sends is inside what may be sent.
 * toguid must be a snapshot of `to` (one dataset), or of any dataset of `tree`
 * when `to` is NULL; fromguid, when present, a snapshot or bookmark of `tree`.
 * to_where and tree_where name them for the message ("of tank/data", "in the
 * datasets this key may send from"). 0, or -EPERM with why in `why` (to
 * follow "the resume token ").
 */
int resume_token_check(const struct resume_token *t, const struct zfs_tree *tree,
		       const struct zfs_dataset *to, const char *to_where, const char *tree_where,
		       struct strbuf *why);

#endif
