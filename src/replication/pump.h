/*
 * replication/pump.h - the data path of a replication: bytes from one descriptor to
 * another, buffered, rate-limited, (de)compressed, with progress.
 *
 * This is what syncoid needs mbuffer, pv and lzop for. pump_run() copies
 * everything from in_fd (usually the stdout of `zfs send`, or of ssh) to
 * out_fd (the stdin of `zfs receive`, or of ssh) until EOF on in_fd:
 *
 *   in_fd -> [decompress] -> ring buffer -> [compress] -> [bwlimit] -> out_fd
 *
 * A reader thread fills the ring and a writer thread drains it, so a slow
 * receiver does not stall the sender until buffer_size bytes are queued
 * (mbuffer's job). When nothing transforms the stream and there is no
 * bandwidth limit, the ring is a kernel pipe and the bytes move with
 * splice(2) without being copied through user space. A buffer_size asked
 * for is honoured: the pipe is made that large (F_SETPIPE_SZ; needs
 * CAP_SYS_RESOURCE above /proc/sys/fs/pipe-max-size) or the copying ring
 * is used. The default (buffer_size 0) takes the largest pipe it can get,
 * down to 1 MiB, before it falls back to the ring: a confined worker has
 * no CAP_SYS_RESOURCE, and copying costs more than a smaller pipe.
 *
 * The calling thread waits and calls opts->progress every
 * progress_interval_ms (and once at the end with done = true), so the
 * callback runs in the caller's thread and needs no locking. pump only
 * reports numbers; the caller formats them (a bar on a tty, log lines,
 * JSON events).
 *
 * SIGPIPE: pump_run blocks SIGPIPE while it runs (its threads inherit the
 * mask) and discards one it caused, so a receiver that dies shows up as
 * -EPIPE, not as the death of zkeep. The caller's signal mask is restored.
 *
 * pump_run does not close in_fd or out_fd. It never logs.
 */
#ifndef ZKEEP_PUMP_H
#define ZKEEP_PUMP_H

#include "base/strbuf.h"
#include "base/strvec.h"

#define PUMP_DEFAULT_BUFFER ((size_t)16 << 20) /* syncoid's --mbuffer-size default */
#define PUMP_MIN_BUFFER ((size_t)64 << 10)
#define PUMP_MAX_BUFFER ((size_t)4 << 30)

enum pump_codec_kind {
	PUMP_CODEC_NONE = 0,
	PUMP_CODEC_ZSTD, /* zstd frames (libzstd streaming API) */
	PUMP_CODEC_LZ4,  /* lz4 frames (liblz4 frame API) */
};

/*
 * A stream codec. The wire format is the standard frame format of each
 * library, the same as the `zstd` and `lz4` command-line tools write, so a
 * remote side with nothing but zfs and those tools installed can produce or
 * consume it (see pump_codec_argv()).
 */
struct pump_codec {
	enum pump_codec_kind kind;
	int level;        /* zstd: 1..19; lz4: 0 (fast) ..12 (HC); ignored for NONE */
	unsigned threads; /* zstd only: ZSTD_c_nbWorkers (0 = single-threaded) */
};

/*
 * Map a syncoid --compress name to a codec. Decision: every name maps to an
 * in-process codec (no external compressor is ever spawned locally):
 *
 *   none                       -> none
 *   zstd-fast / zstd-slow      -> zstd level 3 / 19
 *   zstdmt-fast / zstdmt-slow  -> zstd level 3 / 19, one worker per CPU
 *   lz4                        -> lz4 (fast)
 *   lzo (syncoid's default)    -> lz4: the same class (fast, light)
 *   gzip                       -> zstd level 3: faster and smaller than gzip -3
 *   pigz-fast / pigz-slow      -> zstd level 3 / 9, one worker per CPU
 *   xz                         -> zstd level 19
 *
 * Both ends of the wire must agree, which they do because zkeep (or the
 * `zstd`/`lz4` tool run by the remote command, see pump_codec_argv()) is at
 * both ends; syncoid's own wire formats are never mixed with zkeep's.
 * Unknown names: -EINVAL with a message listing the valid ones.
 */
int pump_codec_from_syncoid(const char *name, struct pump_codec *out, struct strbuf *err);
/* "none", "zstd-3", "zstd-19x2", "lz4" for messages and --dry-run. */
void pump_codec_describe(const struct pump_codec *c, struct strbuf *sb);

/*
 * The argv of the command-line tool that does the same as this codec, for
 * the remote end of an ssh pipeline when the remote side is plain zfs:
 * compress: {"zstd","-q","-c","-3"[,"-T0"]} / {"lz4","-q","-c"};
 * decompress: {"zstd","-q","-d","-c"} / {"lz4","-q","-d","-c"}.
 * Appends nothing for PUMP_CODEC_NONE.
 */
void pump_codec_argv(const struct pump_codec *c, bool decompress, struct strvec *argv);

struct pump_progress {
	uint64_t stream_bytes;   /* bytes of the (uncompressed) zfs stream so far */
	uint64_t expected_bytes; /* opts->expected_bytes (0 unknown) */
	uint64_t wire_in, wire_out; /* bytes read from in_fd, written to out_fd */
	double elapsed;          /* seconds since the start */
	double rate;             /* stream bytes/s over the last few seconds */
	double eta;              /* seconds left, or -1 when unknown */
	bool done;               /* the final report */
};

/*
 * Formatting for the command layer (pure; pump itself prints nothing):
 *   PUMP_SHOW_BAR    one line for a terminal, redrawn with '\r':
 *                    "1.20 GiB  45.6 MiB/s [=====>     ]  52%  ETA 0:01:23"
 *                    (no bar and no ETA when the size is unknown), at most
 *                    width columns;
 *   PUMP_SHOW_LINE   a log line: "1.20 GiB of 2.30 GiB (52%), 45.6 MiB/s,
 *                    ETA 1m23s" ("done: ... in 12.3 s" at the end);
 *   PUMP_SHOW_JSON   one JSON object: {"event":"progress","bytes":N,
 *                    "expected":N,"wire_in":N,"wire_out":N,"elapsed":S,
 *                    "rate":R,"eta":S|null,"done":B}.
 * Appends to sb, without a newline.
 */
enum pump_show { PUMP_SHOW_BAR, PUMP_SHOW_LINE, PUMP_SHOW_JSON };
void pump_progress_format(const struct pump_progress *p, enum pump_show how, unsigned width,
			  struct strbuf *sb);
/* Appends a byte count as the formats above write it: "512 B", "1.20 GiB". */
static inline void pump_human_bytes(struct strbuf *sb, double b)
{
	strbuf_add_bytes(sb, b, 2);
}

struct pump_opts {
	size_t buffer_size;      /* asked for; 0 = PUMP_DEFAULT_BUFFER or less (above) */
	uint64_t bwlimit;        /* bytes/s written to out_fd; 0 = unlimited */
	struct pump_codec decompress; /* applied to what is read from in_fd */
	struct pump_codec compress;   /* applied to what is written to out_fd */
	uint64_t expected_bytes; /* from `zfs send -nvP`, for the ETA; 0 unknown */
	void (*progress)(const struct pump_progress *p, void *data);
	void *progress_data;
	unsigned progress_interval_ms; /* 0 = 1000 */
	bool no_splice;          /* force the copying ring (tests, benchmarks) */
};

struct pump_stats {
	uint64_t stream_bytes;   /* uncompressed stream bytes that passed */
	uint64_t wire_in, wire_out;
	double seconds;
	bool spliced;            /* the splice path was used */
	uint64_t stored_bytes;   /* stream bytes sent uncompressed: they did not compress */
};

/*
 * Copy in_fd to out_fd as described above. opts may be NULL (defaults),
 * stats may be NULL. Returns 0 when EOF on in_fd was reached and everything
 * was written; otherwise -errno with a message in err (may be NULL):
 *   -EPIPE    the reader of out_fd went away (the receiver died);
 *   -EBADMSG  the compressed input is corrupt or truncated;
 *   -EINVAL   bad options (buffer size out of range);
 *   other     read/write errors of in_fd/out_fd.
 * stats are filled in either case.
 */
int pump_run(int in_fd, int out_fd, const struct pump_opts *opts, struct pump_stats *stats,
	     struct strbuf *err);

#endif
