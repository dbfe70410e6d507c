/* pump.c - see pump.h. */
#include "base/zkeep.h"
#include "replication/pump.h"
#include "config.h"

#include <fcntl.h>
#include <inttypes.h>
#define LZ4F_STATIC_LINKING_ONLY /* LZ4F_uncompressedUpdate(), see encoder */
#include <lz4frame.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <zstd.h>

#define CHUNK ((size_t)1 << 20)    /* largest single read/write/splice */
#define IBUF ((size_t)256 << 10)   /* compressed input buffer of the decoder */
#define RATE_SAMPLES 8             /* progress samples kept for the rate */

/* ---- codecs --------------------------------------------------------------------- */

static unsigned ncpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 && n < 256 ? (unsigned)n : 1;
}

int pump_codec_from_syncoid(const char *name, struct pump_codec *out, struct strbuf *err)
{
	static const struct {
		const char *name;
		enum pump_codec_kind kind;
		int level;
		bool mt;
	} map[] = {
		{ "none", PUMP_CODEC_NONE, 0, false },
		{ "zstd-fast", PUMP_CODEC_ZSTD, 3, false },
		{ "zstd-slow", PUMP_CODEC_ZSTD, 19, false },
		{ "zstdmt-fast", PUMP_CODEC_ZSTD, 3, true },
		{ "zstdmt-slow", PUMP_CODEC_ZSTD, 19, true },
		{ "lz4", PUMP_CODEC_LZ4, 0, false },
		{ "lzo", PUMP_CODEC_LZ4, 0, false },
		{ "gzip", PUMP_CODEC_ZSTD, 3, false },
		{ "pigz-fast", PUMP_CODEC_ZSTD, 3, true },
		{ "pigz-slow", PUMP_CODEC_ZSTD, 9, true },
		{ "xz", PUMP_CODEC_ZSTD, 19, false },
	};
	for (size_t i = 0; name && i < ARRAY_SIZE(map); i++) {
		if (streq(name, map[i].name)) {
			out->kind = map[i].kind;
			out->level = map[i].level;
			out->threads = map[i].mt ? ncpus() : 0;
			return 0;
		}
	}
	if (err) {
		strbuf_addf(err, "unknown compression '%s': use one of", name ? name : "");
		for (size_t i = 0; i < ARRAY_SIZE(map); i++)
			strbuf_addf(err, "%s %s", i ? "," : "", map[i].name);
	}
	return -EINVAL;
}

void pump_codec_describe(const struct pump_codec *c, struct strbuf *sb)
{
	switch (c->kind) {
	case PUMP_CODEC_NONE:
		strbuf_addstr(sb, "none");
		break;
	case PUMP_CODEC_ZSTD:
		strbuf_addf(sb, "zstd-%d", c->level);
		if (c->threads)
			strbuf_addf(sb, "x%u", c->threads);
		break;
	case PUMP_CODEC_LZ4:
		strbuf_addstr(sb, "lz4");
		if (c->level > 0)
			strbuf_addf(sb, "-%d", c->level);
		break;
	}
}

void pump_codec_argv(const struct pump_codec *c, bool decompress, struct strvec *argv)
{
	switch (c->kind) {
	case PUMP_CODEC_NONE:
		return;
	case PUMP_CODEC_ZSTD:
		strvec_push(argv, "zstd");
		strvec_push(argv, "-q");
		if (decompress) {
			strvec_push(argv, "-d");
			strvec_push(argv, "-c");
			return;
		}
		strvec_push(argv, "-c");
		strvec_pushf(argv, "-%d", c->level > 0 ? c->level : 3);
		if (c->threads)
			strvec_push(argv, "-T0");
		return;
	case PUMP_CODEC_LZ4:
		strvec_push(argv, "lz4");
		strvec_push(argv, "-q");
		if (decompress)
			strvec_push(argv, "-d");
		else if (c->level > 0)
			strvec_pushf(argv, "-%d", c->level);
		strvec_push(argv, "-c");
		return;
	}
}

/* ---- progress formatting (pure) ---- */

static void clock_hms(struct strbuf *sb, double s)
{
	uint64_t t = s < 0 ? 0 : (uint64_t)(s + 0.5);
	strbuf_addf(sb, "%" PRIu64 ":%02u:%02u", t / 3600, (unsigned)(t / 60 % 60), (unsigned)(t % 60));
}

static void short_duration(struct strbuf *sb, double s)
{
	uint64_t t = s < 0 ? 0 : (uint64_t)(s + 0.5);
	if (t >= 3600)
		strbuf_addf(sb, "%" PRIu64 "h%02um", t / 3600, (unsigned)(t / 60 % 60));
	else if (t >= 60)
		strbuf_addf(sb, "%um%02us", (unsigned)(t / 60), (unsigned)(t % 60));
	else
		strbuf_addf(sb, "%us", (unsigned)t);
}

void pump_progress_format(const struct pump_progress *p, enum pump_show how, unsigned width,
			  struct strbuf *sb)
{
	bool known = p->expected_bytes > 0;
	unsigned pct = 0;
	if (known)
		pct = p->stream_bytes >= p->expected_bytes
			      ? 100
			      : (unsigned)((double)p->stream_bytes * 100.0 / (double)p->expected_bytes);
	if (how == PUMP_SHOW_JSON) {
		strbuf_addf(sb, "{\"event\":\"progress\",\"bytes\":%" PRIu64 ",\"expected\":%" PRIu64
			    ",\"wire_in\":%" PRIu64 ",\"wire_out\":%" PRIu64 ",\"elapsed\":%.3f,"
			    "\"rate\":%.0f,\"eta\":", p->stream_bytes, p->expected_bytes, p->wire_in,
			    p->wire_out, p->elapsed, p->rate);
		if (p->eta >= 0)
			strbuf_addf(sb, "%.1f", p->eta);
		else
			strbuf_addstr(sb, "null");
		strbuf_addf(sb, ",\"done\":%s}", p->done ? "true" : "false");
		return;
	}
	if (how == PUMP_SHOW_LINE) {
		if (p->done)
			strbuf_addstr(sb, "done: ");
		pump_human_bytes(sb, (double)p->stream_bytes);
		if (known) {
			strbuf_addstr(sb, " of ");
			pump_human_bytes(sb, (double)p->expected_bytes);
			strbuf_addf(sb, " (%u%%)", pct);
		}
		if (p->done) {
			strbuf_addf(sb, " in %.1f s, ", p->elapsed);
			pump_human_bytes(sb, p->elapsed > 0 ? (double)p->stream_bytes / p->elapsed : 0);
			strbuf_addstr(sb, "/s");
			return;
		}
		strbuf_addstr(sb, ", ");
		pump_human_bytes(sb, p->rate);
		strbuf_addstr(sb, "/s");
		if (p->eta >= 0) {
			strbuf_addstr(sb, ", ETA ");
			short_duration(sb, p->eta);
		}
		return;
	}
	/* the bar: fixed parts first, the bar gets what is left of width */
	struct strbuf head = STRBUF_INIT, tail = STRBUF_INIT;
	pump_human_bytes(&head, (double)p->stream_bytes);
	strbuf_addstr(&head, "  ");
	pump_human_bytes(&head, p->done && p->elapsed > 0 ? (double)p->stream_bytes / p->elapsed : p->rate);
	strbuf_addstr(&head, "/s");
	if (known) {
		strbuf_addf(&tail, " %3u%%", pct);
		if (p->done) {
			strbuf_addstr(&tail, "  in ");
			clock_hms(&tail, p->elapsed);
		} else if (p->eta >= 0) {
			strbuf_addstr(&tail, "  ETA ");
			clock_hms(&tail, p->eta);
		}
	}
	strbuf_addstr(sb, head.buf);
	size_t fixed = head.len + tail.len + 3; /* " [" and "]" */
	if (known && width > fixed + 10) {
		size_t w = width - fixed;
		if (w > 60)
			w = 60;
		size_t fill = (size_t)pct * w / 100;
		strbuf_addstr(sb, " [");
		for (size_t i = 0; i < w; i++)
			strbuf_addch(sb, i < fill ? '=' : i == fill ? '>' : ' ');
		strbuf_addch(sb, ']');
	}
	strbuf_addstr(sb, tail.buf);
	strbuf_release(&head);
	strbuf_release(&tail);
}

/* ---- the shared state ------------------------------------------------------------ */

struct pump {
	int in_fd, out_fd;
	const struct pump_opts *o;
	bool splice_mode;
	int mid[2];     /* splice mode: the kernel pipe that is the buffer */
	int stopfd;     /* eventfd: set when either side failed, wakes poll() */

	pthread_mutex_t mu;
	pthread_cond_t cv_data, cv_space, cv_main;
	uint8_t *ring;
	size_t cap;
	uint64_t wpos, rpos;  /* total bytes put into / taken out of the ring */
	bool reader_done, writer_done, stop;
	int rerr, werr;
	struct strbuf rmsg, wmsg;

	/* counters, written by one thread each, read under mu by the main thread */
	uint64_t wire_in, wire_out, stream_bytes;
	uint64_t stored_bytes; /* the writer's, when it is done */
	struct timespec t0;
};

static double elapsed_since(const struct timespec *t0)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t0->tv_sec) + (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

static void pump_stop(struct pump *p)
{
	/* caller holds mu */
	if (!p->stop) {
		p->stop = true;
		uint64_t one = 1;
		ssize_t UNUSED k = write(p->stopfd, &one, sizeof(one));
	}
	pthread_cond_broadcast(&p->cv_data);
	pthread_cond_broadcast(&p->cv_space);
	pthread_cond_broadcast(&p->cv_main);
}

static void fail(struct pump *p, bool reader, int e, const char *fmt, ...) PRINTF(4, 5);
static void fail(struct pump *p, bool reader, int e, const char *fmt, ...)
{
	va_list ap;
	pthread_mutex_lock(&p->mu);
	int *slot = reader ? &p->rerr : &p->werr;
	if (!*slot) {
		*slot = e;
		va_start(ap, fmt);
		strbuf_vaddf(reader ? &p->rmsg : &p->wmsg, fmt, ap);
		va_end(ap);
	}
	pump_stop(p);
	pthread_mutex_unlock(&p->mu);
}

/*
 * Wait until fd is ready for `events` or the pump is stopped. 0 when ready,
 * -ECANCELED when stopped.
 */
static int wait_fd(struct pump *p, int fd, short events)
{
	for (;;) {
		struct pollfd pf[2] = { { .fd = fd, .events = events }, { .fd = p->stopfd, .events = POLLIN } };
		int n = poll(pf, 2, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (pf[1].revents)
			return -ECANCELED;
		if (pf[0].revents)
			return 0; /* also POLLHUP/POLLERR: the read or write reports it */
	}
}

/* read() with stop and EINTR handling: bytes, 0 at EOF, or -errno. */
static ssize_t pump_read(struct pump *p, int fd, void *buf, size_t len)
{
	for (;;) {
		int r = wait_fd(p, fd, POLLIN);
		if (r < 0)
			return r;
		ssize_t n = read(fd, buf, len);
		if (n >= 0)
			return n;
		if (errno != EINTR && errno != EAGAIN)
			return -errno;
	}
}

/* Sleep as long as needed to keep wire_out + n within the bandwidth limit. */
static void throttle(struct pump *p, size_t n)
{
	uint64_t limit = p->o->bwlimit;
	if (!limit)
		return;
	double due = (double)(p->wire_out + n) / (double)limit;
	double wait = due - elapsed_since(&p->t0);
	if (wait > 0) {
		struct timespec ts = { .tv_sec = (time_t)wait,
				       .tv_nsec = (long)((wait - (double)(time_t)wait) * 1e9) };
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
	}
}

static size_t write_chunk(const struct pump *p)
{
	uint64_t limit = p->o->bwlimit;
	if (!limit)
		return CHUNK;
	/* ~20 writes per second keeps the rate smooth */
	uint64_t c = limit / 20;
	return c < 4096 ? 4096 : c > CHUNK ? CHUNK : (size_t)c;
}

/* Write all of buf to out_fd, rate-limited. 0 or -errno (message set). */
static int pump_write(struct pump *p, const uint8_t *buf, size_t len)
{
	size_t chunk = write_chunk(p);
	while (len > 0) {
		size_t n = len < chunk ? len : chunk;
		throttle(p, n);
		int r = wait_fd(p, p->out_fd, POLLOUT);
		if (r < 0)
			return r;
		ssize_t w = write(p->out_fd, buf, n);
		if (w < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -errno;
		}
		buf += w;
		len -= (size_t)w;
		pthread_mutex_lock(&p->mu);
		p->wire_out += (uint64_t)w;
		pthread_mutex_unlock(&p->mu);
	}
	return 0;
}

static void write_failed(struct pump *p, int r)
{
	if (r == -ECANCELED)
		return;
	if (r == -EPIPE)
		fail(p, false, r, "the receiving side stopped reading the stream (it failed or exited early)");
	else
		fail(p, false, r, "writing the stream: %s", strerror(-r));
}

/* ---- the copying ring ------------------------------------------------------------- */

/* Reader: wait for free space; returns a span of it, or NULL when stopped. */
static uint8_t *ring_space(struct pump *p, size_t *len)
{
	pthread_mutex_lock(&p->mu);
	while (p->wpos - p->rpos == p->cap && !p->stop)
		pthread_cond_wait(&p->cv_space, &p->mu);
	if (p->stop) {
		pthread_mutex_unlock(&p->mu);
		return NULL;
	}
	size_t off = (size_t)(p->wpos % p->cap);
	size_t free_ = p->cap - (size_t)(p->wpos - p->rpos);
	size_t contig = p->cap - off;
	size_t n = free_ < contig ? free_ : contig;
	pthread_mutex_unlock(&p->mu);
	*len = n < CHUNK ? n : CHUNK;
	return p->ring + off;
}

static void ring_commit(struct pump *p, size_t n, size_t wire)
{
	pthread_mutex_lock(&p->mu);
	p->wpos += n;
	p->wire_in += wire;
	pthread_cond_signal(&p->cv_data);
	pthread_mutex_unlock(&p->mu);
}

/* Writer: wait for data; a span of it, or NULL at the end (eof or stop). */
static const uint8_t *ring_data(struct pump *p, size_t *len, bool *eof)
{
	pthread_mutex_lock(&p->mu);
	while (p->wpos == p->rpos && !p->reader_done && !p->stop)
		pthread_cond_wait(&p->cv_data, &p->mu);
	*eof = false;
	if (p->stop || p->wpos == p->rpos) {
		*eof = !p->stop; /* reader done and everything taken */
		pthread_mutex_unlock(&p->mu);
		return NULL;
	}
	size_t off = (size_t)(p->rpos % p->cap);
	size_t used = (size_t)(p->wpos - p->rpos);
	size_t contig = p->cap - off;
	size_t n = used < contig ? used : contig;
	pthread_mutex_unlock(&p->mu);
	*len = n < CHUNK ? n : CHUNK;
	return p->ring + off;
}

static void ring_release(struct pump *p, size_t n)
{
	pthread_mutex_lock(&p->mu);
	p->rpos += n;
	p->stream_bytes += n;
	pthread_cond_signal(&p->cv_space);
	pthread_mutex_unlock(&p->mu);
}

/* Decoder state for the reader. */
struct decoder {
	enum pump_codec_kind kind;
	ZSTD_DCtx *z;
	LZ4F_dctx *l;
	size_t last;  /* last return of the decoder: 0 at a frame boundary */
	bool any;     /* some input was seen */
};

static int decode_into_ring(struct pump *p, struct decoder *d, const uint8_t *src, size_t srclen)
{
	size_t pos = 0;
	bool full;
	do {
		size_t len;
		uint8_t *dst = ring_space(p, &len);
		if (!dst)
			return -ECANCELED;
		size_t produced, consumed;
		if (d->kind == PUMP_CODEC_ZSTD) {
			ZSTD_outBuffer out = { dst, len, 0 };
			ZSTD_inBuffer in = { src + pos, srclen - pos, 0 };
			size_t r = ZSTD_decompressStream(d->z, &out, &in);
			if (ZSTD_isError(r)) {
				fail(p, true, -EBADMSG, "the compressed stream is corrupt (zstd: %s)",
				     ZSTD_getErrorName(r));
				return -EBADMSG;
			}
			produced = out.pos;
			consumed = in.pos;
			if (produced || consumed)
				d->last = r;
		} else {
			size_t dl = len, sl = srclen - pos;
			size_t r = LZ4F_decompress(d->l, dst, &dl, src + pos, &sl, NULL);
			if (LZ4F_isError(r)) {
				fail(p, true, -EBADMSG, "the compressed stream is corrupt (lz4: %s)",
				     LZ4F_getErrorName(r));
				return -EBADMSG;
			}
			produced = dl;
			consumed = sl;
			/* a call that did nothing (after a frame end) returns the size
			 * of the next header: not a sign of truncation */
			if (produced || consumed)
				d->last = r;
		}
		pos += consumed;
		full = produced == len;
		ring_commit(p, produced, 0);
		if (!produced && !consumed && pos < srclen) {
			/* cannot happen with either library; never spin */
			fail(p, true, -EBADMSG, "the compressed stream is corrupt (decoder made no progress)");
			return -EBADMSG;
		}
	} while (pos < srclen || full);
	return 0;
}

static void *reader_copy(void *arg)
{
	struct pump *p = arg;
	const struct pump_opts *o = p->o;
	struct decoder d = { .kind = o->decompress.kind };
	_cleanup_free_ uint8_t *ibuf = NULL;

	if (d.kind == PUMP_CODEC_ZSTD)
		d.z = ZSTD_createDCtx();
	else if (d.kind == PUMP_CODEC_LZ4 && LZ4F_isError(LZ4F_createDecompressionContext(&d.l, LZ4F_VERSION)))
		d.l = NULL;
	if (d.kind != PUMP_CODEC_NONE) {
		if (!d.z && !d.l) {
			fail(p, true, -ENOMEM, "cannot create the decompressor");
			goto out;
		}
		ibuf = xmalloc(IBUF);
	}

	for (;;) {
		ssize_t n;
		if (d.kind == PUMP_CODEC_NONE) {
			size_t len;
			uint8_t *dst = ring_space(p, &len);
			if (!dst)
				break;
			n = pump_read(p, p->in_fd, dst, len);
			if (n > 0) {
				ring_commit(p, (size_t)n, (size_t)n);
				continue;
			}
		} else {
			n = pump_read(p, p->in_fd, ibuf, IBUF);
			if (n > 0) {
				d.any = true;
				ring_commit(p, 0, (size_t)n);
				if (decode_into_ring(p, &d, ibuf, (size_t)n) < 0)
					break;
				continue;
			}
		}
		if (n == -ECANCELED)
			break;
		if (n < 0) {
			fail(p, true, (int)n, "reading the stream: %s", strerror((int)-n));
			break;
		}
		/* EOF */
		if (d.kind != PUMP_CODEC_NONE && (!d.any || d.last != 0)) {
			fail(p, true, -EBADMSG, "the compressed stream is truncated (%s)",
			     d.any ? "it ends inside a frame" : "it is empty");
			break;
		}
		break;
	}
out:
	ZSTD_freeDCtx(d.z);
	if (d.l)
		LZ4F_freeDecompressionContext(d.l);
	pthread_mutex_lock(&p->mu);
	p->reader_done = true;
	pthread_cond_broadcast(&p->cv_data);
	pthread_cond_broadcast(&p->cv_main);
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

/*
 * lz4 only: a chunk (of 64 KiB or more) that compressed by less than 1/STORE_GAIN is
 * followed by a window of bytes sent as they are (uncompressed blocks of the same frame,
 * which every lz4 decoder reads), then a chunk is tried again. The window starts at
 * STORE_MIN and doubles while the tries fail, up to STORE_MAX, so an incompressible file
 * amid compressible ones costs little ratio and a wholly incompressible stream (an
 * encrypted raw send, media) is hardly tried at all: trying costs more CPU than the wire
 * saves, most where the CPU is the limit (one core for zfs, ssh's cipher and the pump).
 */
#define STORE_GAIN 32
#define STORE_MIN ((uint64_t)1 << 20)
#define STORE_MAX ((uint64_t)16 << 20)
#define STORE_PROBE_MIN ((size_t)64 << 10)

struct encoder {
	enum pump_codec_kind kind;
	ZSTD_CCtx *z;
	LZ4F_cctx *l;
	LZ4F_preferences_t prefs;
	uint8_t *obuf;
	size_t ocap;
	uint64_t store_left; /* lz4: bytes still to send uncompressed */
	uint64_t store_next; /* lz4: the next window after a failed try (0: STORE_MIN) */
	uint64_t stored;     /* lz4: stream bytes sent uncompressed */
};

static int encoder_init(struct pump *p, struct encoder *e)
{
	const struct pump_codec *c = &p->o->compress;
	e->kind = c->kind;
	if (e->kind == PUMP_CODEC_ZSTD) {
		e->z = ZSTD_createCCtx();
		if (!e->z)
			return -ENOMEM;
		if (ZSTD_isError(ZSTD_CCtx_setParameter(e->z, ZSTD_c_compressionLevel,
							 c->level > 0 ? c->level : 3)))
			return -EINVAL;
		/* a checksum per frame: corruption on the wire is an error, not bad data */
		(void)ZSTD_CCtx_setParameter(e->z, ZSTD_c_checksumFlag, 1);
		/* a library built without threads refuses: then single-threaded */
		if (c->threads)
			(void)ZSTD_CCtx_setParameter(e->z, ZSTD_c_nbWorkers, (int)c->threads);
		e->ocap = ZSTD_CStreamOutSize();
	} else if (e->kind == PUMP_CODEC_LZ4) {
		if (LZ4F_isError(LZ4F_createCompressionContext(&e->l, LZ4F_VERSION)))
			return -ENOMEM;
		e->prefs = (LZ4F_preferences_t)LZ4F_INIT_PREFERENCES;
		e->prefs.compressionLevel = c->level;
		/*
		 * No content checksum: hashing every byte on both ends was about
		 * three quarters of what lz4 cost on incompressible data in the
		 * guest (bench/RESULTS.md), and it guards nothing that is not
		 * guarded: ssh's MAC refuses bytes changed on the way, and every
		 * record of a send stream carries a running checksum of the stream
		 * that `zfs receive` checks (ECKSUM). zstd keeps its own.
		 */
		e->prefs.frameInfo.contentChecksumFlag = LZ4F_noContentChecksum;
		/* uncompressed blocks need blocks that do not refer to the ones before */
		e->prefs.frameInfo.blockMode = LZ4F_blockIndependent;
		/* room for the header and one CHUNK of input in the worst case; twice that,
		 * for lz4_store(), whose lz4 call counts capacity loosely */
		e->ocap = 2 * (LZ4F_compressBound(CHUNK, &e->prefs) + LZ4F_HEADER_SIZE_MAX);
	}
	e->obuf = xmalloc(e->ocap);
	return 0;
}

static void encoder_free(struct encoder *e)
{
	ZSTD_freeCCtx(e->z);
	if (e->l)
		LZ4F_freeCompressionContext(e->l);
	free(e->obuf);
}

/*
 * len bytes of src into the frame as they are (see STORE_GAIN); LZ4F's result. What the
 * frame still buffers is flushed first: lz4 1.9.4's LZ4F_uncompressedUpdate() writes it
 * in front of src without counting it against cap (ASan caught the overflow).
 */
static size_t lz4_store(struct encoder *e, uint8_t *dst, size_t cap, const uint8_t *src,
			size_t len)
{
#if HAVE_LZ4F_UNCOMPRESSED_UPDATE
	size_t f = LZ4F_flush(e->l, dst, cap, NULL);
	if (LZ4F_isError(f))
		return f;
	size_t r = LZ4F_uncompressedUpdate(e->l, dst + f, cap - f, src, len, NULL);
	return LZ4F_isError(r) ? r : f + r;
#else
	return LZ4F_compressUpdate(e->l, dst, cap, src, len, NULL);
#endif
}

/* Compress src (or finish the frame when end) and write the output. */
static int encode_and_write(struct pump *p, struct encoder *e, const uint8_t *src, size_t len,
			    bool end, bool *begun)
{
	if (e->kind == PUMP_CODEC_ZSTD) {
		ZSTD_inBuffer in = { src, len, 0 };
		ZSTD_EndDirective mode = end ? ZSTD_e_end : ZSTD_e_continue;
		for (;;) {
			ZSTD_outBuffer out = { e->obuf, e->ocap, 0 };
			size_t r = ZSTD_compressStream2(e->z, &out, &in, mode);
			if (ZSTD_isError(r)) {
				fail(p, false, -EIO, "zstd compression failed: %s", ZSTD_getErrorName(r));
				return -EIO;
			}
			if (out.pos) {
				int w = pump_write(p, e->obuf, out.pos);
				if (w < 0)
					return w;
			}
			if (end ? r == 0 : in.pos == in.size)
				return 0;
		}
	}
	/* lz4 */
	size_t n = 0;
	if (!*begun) {
		n = LZ4F_compressBegin(e->l, e->obuf, e->ocap, &e->prefs);
		if (LZ4F_isError(n))
			goto lz4err;
		*begun = true;
	}
	if (len) {
		bool store = HAVE_LZ4F_UNCOMPRESSED_UPDATE && e->store_left > 0;
		size_t r = store ? lz4_store(e, e->obuf + n, e->ocap - n, src, len)
				 : LZ4F_compressUpdate(e->l, e->obuf + n, e->ocap - n, src, len, NULL);
		if (LZ4F_isError(r)) {
			n = r;
			goto lz4err;
		}
		if (store) {
			e->store_left -= len < e->store_left ? len : e->store_left;
			e->stored += len;
		} else if (len >= STORE_PROBE_MIN && r > len - len / STORE_GAIN) {
			e->store_left = e->store_next ? e->store_next : STORE_MIN;
			e->store_next = e->store_left * 2 < STORE_MAX ? e->store_left * 2 : STORE_MAX;
		} else if (len >= STORE_PROBE_MIN) {
			e->store_next = 0; /* it compresses again: a short window next time */
		}
		n += r;
	}
	if (end) {
		int w = pump_write(p, e->obuf, n);
		if (w < 0)
			return w;
		n = LZ4F_compressEnd(e->l, e->obuf, e->ocap, NULL);
		if (LZ4F_isError(n))
			goto lz4err;
	}
	return n ? pump_write(p, e->obuf, n) : 0;
lz4err:
	fail(p, false, -EIO, "lz4 compression failed: %s", LZ4F_getErrorName(n));
	return -EIO;
}

static void *writer_copy(void *arg)
{
	struct pump *p = arg;
	struct encoder e = { 0 };
	bool begun = false;
	int r = 0;

	if (p->o->compress.kind != PUMP_CODEC_NONE && (r = encoder_init(p, &e)) < 0) {
		fail(p, false, r, "cannot set up the compressor");
		goto out;
	}
	for (;;) {
		size_t len;
		bool eof;
		const uint8_t *src = ring_data(p, &len, &eof);
		if (!src) {
			if (eof && e.kind != PUMP_CODEC_NONE) {
				r = encode_and_write(p, &e, NULL, 0, true, &begun);
				if (r < 0)
					write_failed(p, r);
			}
			break;
		}
		if (e.kind != PUMP_CODEC_NONE) {
			/* len <= CHUNK, so the lz4 output bound holds */
			r = encode_and_write(p, &e, src, len, false, &begun);
		} else {
			r = pump_write(p, src, len);
		}
		if (r < 0) {
			write_failed(p, r);
			break;
		}
		ring_release(p, len);
	}
out:
	p->stored_bytes = e.stored;
	encoder_free(&e);
	pthread_mutex_lock(&p->mu);
	p->writer_done = true;
	if (!p->werr && !p->rerr && p->wpos != p->rpos)
		p->werr = -ECANCELED;
	pump_stop(p); /* wakes a reader still waiting for space */
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

/* ---- the splice path ---------------------------------------------------------------- */

/*
 * Blocking splice of up to len bytes. Bytes moved, 0 at EOF, or -errno.
 * Non-blocking splice with poll measured 3.5 times slower (many short
 * moves and wake-ups), so the threads block in splice and are stopped by
 * closing their side of the middle pipe (a writer into a pipe without
 * readers gets EPIPE, a reader of a pipe without writers gets EOF).
 */
static ssize_t splice_some(int from, int to, size_t len)
{
	for (;;) {
		ssize_t n = splice(from, NULL, to, NULL, len, SPLICE_F_MOVE);
		if (n >= 0)
			return n;
		if (errno != EINTR)
			return -errno;
	}
}

static void *reader_splice(void *arg)
{
	struct pump *p = arg;
	for (;;) {
		/* wait for input or a stop: a stopped pump must not block in read */
		int r = wait_fd(p, p->in_fd, POLLIN);
		if (r < 0)
			break;
		ssize_t n = splice_some(p->in_fd, p->mid[1], CHUNK);
		if (n > 0) {
			pthread_mutex_lock(&p->mu);
			p->wire_in += (uint64_t)n;
			pthread_mutex_unlock(&p->mu);
			continue;
		}
		/* EPIPE into the middle pipe: the writer stopped (it says why) */
		if (n < 0 && n != -EPIPE)
			fail(p, true, (int)n, "reading the stream: %s", strerror((int)-n));
		break;
	}
	/* EOF for the writer */
	close(p->mid[1]);
	p->mid[1] = -1;
	pthread_mutex_lock(&p->mu);
	p->reader_done = true;
	pthread_cond_broadcast(&p->cv_main);
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

static void *writer_splice(void *arg)
{
	struct pump *p = arg;
	for (;;) {
		ssize_t n = splice_some(p->mid[0], p->out_fd, CHUNK);
		if (n > 0) {
			pthread_mutex_lock(&p->mu);
			p->wire_out += (uint64_t)n;
			p->stream_bytes += (uint64_t)n;
			pthread_mutex_unlock(&p->mu);
			continue;
		}
		/*
		 * splice checks for readers of out_fd before it sees EOF on the
		 * middle pipe: a receiver that exited after the end of the
		 * stream gives EPIPE with nothing left to move. Only an EPIPE
		 * with bytes still in the pipe means the receiver quit early.
		 */
		int pending = 0;
		if (n == -EPIPE && ioctl(p->mid[0], FIONREAD, &pending) == 0 && pending == 0)
			n = 0;
		if (n < 0)
			write_failed(p, (int)n);
		break;
	}
	/* a reader blocked on a full middle pipe gets EPIPE now */
	close(p->mid[0]);
	p->mid[0] = -1;
	pthread_mutex_lock(&p->mu);
	p->writer_done = true;
	pump_stop(p);
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

/* Whether splice can be used on fd: pipes, sockets and regular files. */
static bool splice_capable(int fd)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return false;
	return S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode) || S_ISREG(st.st_mode);
}

static bool try_splice_setup(struct pump *p)
{
	const struct pump_opts *o = p->o;
	if (o->no_splice || o->bwlimit || o->compress.kind || o->decompress.kind)
		return false;
	if (!splice_capable(p->in_fd) || !splice_capable(p->out_fd))
		return false;
	if (pipe2(p->mid, O_CLOEXEC) < 0)
		return false;
	/*
	 * The pipe is the buffer: as large as asked. The default may shrink,
	 * halving down to one CHUNK: a process without CAP_SYS_RESOURCE (a
	 * confined worker) gets at most pipe-max-size (1 MiB unless raised),
	 * and locally a 1 MiB pipe moved as fast as a 16 MiB one while the
	 * copying ring cost a confined 1 GiB run about 2 s (bench/RESULTS.md).
	 * A size the user asked for (--mbuffer-size) is honoured or the ring
	 * is used.
	 */
	size_t want = p->cap;
	size_t least = p->o->buffer_size ? p->cap : CHUNK;
	int got = -1;
	for (; want >= least; want /= 2) {
		got = fcntl(p->mid[1], F_SETPIPE_SZ, (int)want);
		/* EPERM: above pipe-max-size; ENOMEM: no room for this many pages now */
		if ((got >= 0 && (size_t)got >= want) ||
		    (got < 0 && errno != EPERM && errno != ENOMEM))
			break;
	}
	if (got < 0 || (size_t)got < want || want < least) {
		close(p->mid[0]);
		close(p->mid[1]);
		p->mid[0] = p->mid[1] = -1;
		return false;
	}
	p->cap = (size_t)got;
	return true;
}

/* ---- pump_run -------------------------------------------------------------------- */

static void fill_progress(struct pump *p, struct pump_progress *pp, double *st, uint64_t *sb,
			  unsigned *ns, bool done)
{
	/* caller holds mu */
	double now = elapsed_since(&p->t0);
	pp->stream_bytes = p->stream_bytes;
	pp->expected_bytes = p->o->expected_bytes;
	pp->wire_in = p->wire_in;
	pp->wire_out = p->wire_out;
	pp->elapsed = now;
	pp->done = done;
	/* rate over the oldest kept sample (up to RATE_SAMPLES intervals back) */
	unsigned n = *ns;
	size_t oldest = n < RATE_SAMPLES ? 0 : n % RATE_SAMPLES;
	double t_old = n ? st[oldest] : 0;
	uint64_t b_old = n ? sb[oldest] : 0;
	pp->rate = now > t_old ? (double)(pp->stream_bytes - b_old) / (now - t_old) : 0;
	st[n % RATE_SAMPLES] = now;
	sb[n % RATE_SAMPLES] = pp->stream_bytes;
	*ns = n + 1;
	if (pp->expected_bytes > pp->stream_bytes && pp->rate > 0)
		pp->eta = (double)(pp->expected_bytes - pp->stream_bytes) / pp->rate;
	else
		pp->eta = pp->expected_bytes && pp->stream_bytes >= pp->expected_bytes ? 0 : -1;
}

/* SIGPIPE becomes EPIPE while the pump runs: blocked here and in the threads,
 * and one that our writes raised is discarded at the end. */
struct sigpipe_guard {
	sigset_t set, old;
	bool was_pending;
};

static void sigpipe_block(struct sigpipe_guard *g)
{
	sigemptyset(&g->set);
	sigaddset(&g->set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &g->set, &g->old);
	sigset_t pending;
	sigpending(&pending);
	g->was_pending = sigismember(&pending, SIGPIPE);
}

static void sigpipe_restore(struct sigpipe_guard *g)
{
	if (!g->was_pending) {
		/* discard a SIGPIPE that our writes raised */
		struct timespec zero = { 0, 0 };
		while (sigtimedwait(&g->set, NULL, &zero) > 0)
			;
	}
	pthread_sigmask(SIG_SETMASK, &g->old, NULL);
}

/*
 * A pipe at either end (zfs send's stdout, zfs receive's or ssh's stdin)
 * holds 64 KiB unless grown, so the process on its far side stops every
 * 64 KiB to wait for the pump, and on a busy CPU each stop is a switch
 * between processes. One CHUNK, which needs no privilege (pipe-max-size);
 * best effort, never shrunk.
 */
static void grow_pipe(int fd)
{
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISFIFO(st.st_mode))
		return;
	int n = fcntl(fd, F_GETPIPE_SZ);
	if (n >= 0 && (size_t)n < CHUNK)
		(void)fcntl(fd, F_SETPIPE_SZ, (int)CHUNK);
}

/* The stop eventfd, locks, messages, clock, and the buffer (a middle pipe
 * when splice can be used, else the ring). 0 or -errno (nothing to release). */
static int pump_setup(struct pump *p, struct strbuf *err)
{
	p->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (p->stopfd < 0) {
		int r = -errno;
		if (err)
			strbuf_addf(err, "eventfd: %s", strerror(errno));
		return r;
	}
	pthread_mutex_init(&p->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->cv_data, NULL);
	pthread_cond_init(&p->cv_space, NULL);
	pthread_cond_init(&p->cv_main, &ca);
	pthread_condattr_destroy(&ca);
	strbuf_init(&p->rmsg, 4096);
	strbuf_init(&p->wmsg, 4096);
	clock_gettime(CLOCK_MONOTONIC, &p->t0);

	grow_pipe(p->in_fd);
	grow_pipe(p->out_fd);
	p->splice_mode = try_splice_setup(p);
	if (!p->splice_mode)
		p->ring = xmalloc(p->cap);
	return 0;
}

static void pump_teardown(struct pump *p)
{
	free(p->ring);
	for (int i = 0; i < 2; i++)
		if (p->mid[i] >= 0)
			close(p->mid[i]);
	strbuf_release(&p->rmsg);
	strbuf_release(&p->wmsg);
	pthread_cond_destroy(&p->cv_data);
	pthread_cond_destroy(&p->cv_space);
	pthread_cond_destroy(&p->cv_main);
	pthread_mutex_destroy(&p->mu);
	close(p->stopfd);
}

/* Start the reader and the writer. 0, or -errno with neither running. */
static int start_threads(struct pump *p, pthread_t *rt, pthread_t *wt, struct strbuf *err)
{
	int e = pthread_create(rt, NULL, p->splice_mode ? reader_splice : reader_copy, p);
	if (e) {
		if (err)
			strbuf_addf(err, "cannot start the pump's reader thread: %s", strerror(e));
		return -e;
	}
	e = pthread_create(wt, NULL, p->splice_mode ? writer_splice : writer_copy, p);
	if (e) {
		pthread_mutex_lock(&p->mu);
		pump_stop(p);
		pthread_mutex_unlock(&p->mu);
		pthread_join(*rt, NULL);
		if (err)
			strbuf_addf(err, "cannot start the pump's writer thread: %s", strerror(e));
		return -e;
	}
	return 0;
}

/* Wait for both threads, calling the progress callback every interval and
 * once more at the end. */
static void supervise(struct pump *p, pthread_t rt, pthread_t wt)
{
	const struct pump_opts *o = p->o;
	unsigned interval = o->progress_interval_ms ? o->progress_interval_ms : 1000;
	double samp_t[RATE_SAMPLES];
	uint64_t samp_b[RATE_SAMPLES];
	unsigned nsamp = 0;
	struct timespec next;
	clock_gettime(CLOCK_MONOTONIC, &next);
	pthread_mutex_lock(&p->mu);
	while (!(p->writer_done && p->reader_done)) {
		next.tv_nsec += (long)(interval % 1000) * 1000000L;
		next.tv_sec += interval / 1000 + next.tv_nsec / 1000000000L;
		next.tv_nsec %= 1000000000L;
		int w = 0;
		while (!(p->writer_done && p->reader_done) && w != ETIMEDOUT)
			w = pthread_cond_timedwait(&p->cv_main, &p->mu, &next);
		if (w == ETIMEDOUT && o->progress && !(p->writer_done && p->reader_done)) {
			struct pump_progress pp;
			fill_progress(p, &pp, samp_t, samp_b, &nsamp, false);
			pthread_mutex_unlock(&p->mu);
			o->progress(&pp, o->progress_data);
			pthread_mutex_lock(&p->mu);
		}
	}
	pthread_mutex_unlock(&p->mu);
	pthread_join(rt, NULL);
	pthread_join(wt, NULL);

	if (o->progress) {
		struct pump_progress pp;
		fill_progress(p, &pp, samp_t, samp_b, &nsamp, true);
		o->progress(&pp, o->progress_data);
	}
}

/* The run's result: the first failure is the cause; a reader error explains
 * a writer stop. */
static int pump_outcome(const struct pump *p, struct strbuf *err)
{
	if (p->rerr && p->rerr != -ECANCELED) {
		if (err)
			strbuf_addstr(err, p->rmsg.buf);
		return p->rerr;
	}
	if (p->werr && p->werr != -ECANCELED) {
		if (err)
			strbuf_addstr(err, p->wmsg.buf);
		return p->werr;
	}
	if (p->rerr || p->werr) {
		if (err)
			strbuf_addstr(err, "the stream was interrupted");
		return -EIO;
	}
	return 0;
}

int pump_run(int in_fd, int out_fd, const struct pump_opts *opts, struct pump_stats *stats,
	     struct strbuf *err)
{
	static const struct pump_opts defaults = { 0 };
	const struct pump_opts *o = opts ? opts : &defaults;
	struct pump p = { .in_fd = in_fd, .out_fd = out_fd, .o = o, .mid = { -1, -1 }, .stopfd = -1 };
	struct sigpipe_guard guard;
	pthread_t rt, wt;

	p.cap = o->buffer_size ? o->buffer_size : PUMP_DEFAULT_BUFFER;
	if (p.cap < PUMP_MIN_BUFFER || p.cap > PUMP_MAX_BUFFER) {
		if (err)
			strbuf_addf(err, "buffer size %zu is out of range (64 KiB to 4 GiB)", p.cap);
		return -EINVAL;
	}
	if (stats)
		*stats = (struct pump_stats){ 0 };

	sigpipe_block(&guard);
	int r = pump_setup(&p, err);
	if (r == 0) {
		r = start_threads(&p, &rt, &wt, err);
		if (r == 0) {
			supervise(&p, rt, wt);
			r = pump_outcome(&p, err);
		}
		if (stats) {
			stats->stream_bytes = p.stream_bytes;
			stats->wire_in = p.wire_in;
			stats->wire_out = p.wire_out;
			stats->seconds = elapsed_since(&p.t0);
			stats->spliced = p.splice_mode;
			stats->stored_bytes = p.stored_bytes;
		}
		pump_teardown(&p);
	}
	sigpipe_restore(&guard);
	return r;
}
