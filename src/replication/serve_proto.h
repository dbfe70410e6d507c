/*
 * replication/serve_proto.h - the protocol of `zkeep serve --stdio`, and its policy.
 *
 * `zkeep serve --stdio` is meant to be the forced command of an
 * authorized_keys entry. It answers ONE request per ssh session (sessions
 * are cheap: the client multiplexes them over one connection) and runs no
 * shell: the request is an argv of `zfs` or `zpool`, which the server
 * checks against a fixed list of allowed forms (serve_policy_check()) and
 * then executes directly.
 *
 * Frame format (both directions, stdin/stdout of the ssh session):
 *
 *   +------+----------------------+-------------------+
 *   | type | length (u32, big-end.) | payload (length)  |
 *   +------+----------------------+-------------------+
 *     1 byte        4 bytes
 *
 * length <= SERVE_FRAME_MAX (1 MiB); a 'Q' payload <= SERVE_REQUEST_MAX.
 *
 *   client -> server
 *     'Q' request, first and once: words, each terminated by a NUL byte.
 *         Word 0 is the protocol version "zkeep-serve-1", then optional
 *         stream options "codec-in=SPEC" (the server decompresses the
 *         stdin data with SPEC before the command reads it) and
 *         "codec-out=SPEC" (it compresses the command's stdout), SPEC
 *         being "zstd-N" (N = 1..19) or "lz4"; then the argv ("zfs",
 *         "receive", "-s", "backup/host1/data"); at most SERVE_MAX_WORDS
 *         words in all.
 *     'I' bytes for the command's stdin; a zero-length 'I' is EOF.
 *   server -> client
 *     'O' bytes of the command's stdout.
 *     'E' bytes of the command's stderr.
 *     'R' refused: the request is outside the policy or malformed; the
 *         payload is the reason (text). Last frame.
 *     'X' exit: 4-byte big-endian exit status of the command (0..255;
 *         128+N when killed by signal N). Last frame.
 *
 * Anything else (unknown type, oversize length, a second 'Q', data after
 * EOF) is a protocol error: the server answers 'R' and stops; the client
 * reports it and fails. The parsers below never read past the buffer they
 * are given and are fuzzed (tests/fuzz/fuzz_serve_proto.c).
 */
#ifndef ZKEEP_SERVE_PROTO_H
#define ZKEEP_SERVE_PROTO_H

#include "replication/pump.h"
#include "base/strbuf.h"
#include "base/strvec.h"
#include "zfs/zfs.h"

#define SERVE_VERSION "zkeep-serve-1"
#define SERVE_HDR_LEN 5
#define SERVE_FRAME_MAX ((uint32_t)1 << 20)
#define SERVE_REQUEST_MAX ((uint32_t)64 << 10)
#define SERVE_MAX_WORDS 256

/* Exit status a client reports when the server refused the request. */
#define SERVE_EXIT_REFUSED 126

enum serve_frame_type {
	SERVE_REQUEST = 'Q',
	SERVE_STDIN = 'I',
	SERVE_STDOUT = 'O',
	SERVE_STDERR = 'E',
	SERVE_REFUSED = 'R',
	SERVE_EXIT = 'X',
};

/* ---- pure encoding and parsing ---------------------------------------------- */

/* Append a frame header. */
void serve_put_header(uint8_t hdr[SERVE_HDR_LEN], enum serve_frame_type type, uint32_t len);
/*
 * Parse a header: 0 with *type and *len, or -EBADMSG for an unknown type or
 * a length over the limit of that type.
 */
int serve_parse_header(const uint8_t hdr[SERVE_HDR_LEN], enum serve_frame_type *type,
		       uint32_t *len);

/* Encode a request payload (version word + argv) into sb. -EINVAL/-E2BIG. */
int serve_encode_request(struct strbuf *sb, const char *const *argv);
/*
 * Decode a request payload into argv (without the version word). 0, or
 * -EPROTO for another protocol version, -EBADMSG for a malformed payload
 * (missing final NUL, too many words, empty program), with a message.
 */
int serve_decode_request(const void *payload, size_t len, struct strvec *argv,
			 struct strbuf *err);

/*
 * Remove the leading "codec-in=" / "codec-out=" words from a decoded
 * request into *in / *out (PUMP_CODEC_NONE when absent). 0, or -EBADMSG
 * for an unknown SPEC or a repeated option, with a message.
 */
int serve_take_options(struct strvec *argv, struct pump_codec *in, struct pump_codec *out,
		       struct strbuf *err);
/* Append a codec's SPEC ("zstd-3", "lz4") to sb; nothing for NONE. */
void serve_codec_spec(const struct pump_codec *c, struct strbuf *sb);

/* ---- policy (pure) ---------------------------------------------------------- */

/*
 * What a server allows: datasets (roots) under which the client may
 * receive, and from which it may send. A dataset is "in" a root when it is
 * the root or below it ("backup/host1" covers "backup/host1/a@s", not
 * "backup/host10"). Names are checked for '..'-style escapes and
 * characters ZFS does not allow before any comparison.
 */
struct serve_policy {
	struct strvec receive_roots;
	struct strvec send_roots;
};
#define SERVE_POLICY_INIT { STRVEC_INIT, STRVEC_INIT }
void serve_policy_release(struct serve_policy *p);

/* serve_policy_check(): allowed if what the resume token sends is in a send root. */
#define SERVE_CHECK_TOKEN 1

/*
 * Check a requested argv against the policy. 0 when allowed (and then argv
 * is exactly what will run), SERVE_CHECK_TOKEN for `zfs send -t TOKEN`
 * (allowed only if what the token sends is in a send root: the server
 * decodes the token and checks that its toguid and fromguid are snapshots or
 * bookmarks listed under the send roots, resume_token_check(), and its toname
 * in a send root), else
 * -EPERM with the reason in err. The rows of serve_rules[] say exactly what
 * is allowed; in short:
 *
 *   read-only, on any dataset in any root:
 *     zfs list  [-H -p -r -d N -t TYPES -o PROPS -s P -S P] DATASET...
 *     zfs get   [-H -p -r -d N -t TYPES -o FIELDS -s SOURCES] PROPS DATASET...
 *     (on an ancestor of a root: the dataset alone, no -r/-d, and -t only
 *     filesystem/volume: its snapshots' and bookmarks' guids are not listed)
 *     zfs holds [-H -p -r] SNAPSHOT...
 *     zfs version; zpool get/list -Hp of the pool of a root
 *   in a send root:
 *     zfs send [flags] [-i|-I FROM] SNAPSHOT     (flags: L P V R X b c e h p s v w n)
 *     zfs send [-P -V -e -v -n] -t TOKEN         (token's guids checked by the server)
 *     zfs snapshot, zfs bookmark, zfs hold/release (sync snapshots)
 *     zfs destroy of bookmarks and of sync snapshots (syncoid_*) only:
 *       a stolen send key cannot delete the source's history
 *   in a receive root:
 *     zfs receive [-s -F -u -v -n -e -d -h] [-o P=V]... [-x P]... TARGET
 *       (no -o/-x of the quarantined properties: mountpoint, setuid,
 *       devices, sharenfs, sharesmb, zoned, exec, volmode; canmount only off or
 *       noauto; the server itself adds -u and the quarantine,
 *       serve_harden_receive())
 *     zfs receive -A TARGET
 *     zfs destroy [-r -d] of snapshots, bookmarks, and datasets strictly
 *       below the root (never the root itself)
 *     zfs rollback [-r] SNAPSHOT, zfs hold/release, zfs snapshot
 */
int serve_policy_check(const struct serve_policy *p, const char *const *argv,
		       struct strbuf *err);

/* The most operands a request may have. */
#define SERVE_MAX_OPS 64

/*
 * One row of the allow-list, serve_rules[] in serve_proto.c, which
 * serve_policy_check() follows: `prog sub` (or `prog alias`), the flags
 * allowed alone and those that take a value (attached or as the next word),
 * min_ops..max_ops operands after the flags, and `check` (NULL: nothing more
 * to check) for the operands against the policy. `parse` replaces the
 * common flag parser for the one command whose valued flags repeat
 * (receive). `example` is allowed under the policy --allow-send tank/data
 * --allow-receive backup/host1, words separated by single spaces.
 */
struct serve_cmdline;
struct serve_rule {
	const char *prog, *sub, *alias;
	const char *flags, *valued;
	size_t min_ops, max_ops;
	int (*check)(const struct serve_policy *p, const struct serve_cmdline *c,
		     struct strbuf *err);
	int (*parse)(const struct serve_rule *rule, const char *const *args,
		     struct serve_cmdline *c, struct strbuf *err);
	const char *example;
};
extern const struct serve_rule serve_rules[];
extern const size_t serve_nrules;

/* Whether a request (checked) is a zfs send / a zfs receive. */
bool serve_is_send(const char *const *argv);
bool serve_is_receive(const char *const *argv);
/*
 * What the server adds to a checked zfs receive (not to an abort, -A): -u
 * and the quarantine of zfs/recvprops.h for a stream of type (-x
 * mountpoint, so that received datasets stay under the server's own
 * mountpoint; setuid, devices, sharenfs, sharesmb off; -x zoned, -x exec; a
 * volume's volmode=none). The client cannot name any of these
 * (serve_policy_check() refuses a -o or -x of them).
 */
void serve_harden_receive(struct strvec *argv, enum zfs_type type);

/* True when name (dataset, snapshot or bookmark) is root or below it. */
bool serve_name_in_root(const char *name, const char *root);

#endif
