/* strbuf.c - see strbuf.h. */
#include "base/strbuf.h"

#include <fcntl.h>

char strbuf_empty[1];

static size_t cap_of(const struct strbuf *sb)
{
	return sb->cap ? sb->cap : STRBUF_DEFAULT_CAP;
}

void strbuf_init(struct strbuf *sb, size_t cap)
{
	*sb = (struct strbuf)STRBUF_INIT;
	sb->cap = cap;
}

void strbuf_release(struct strbuf *sb)
{
	size_t cap = sb->cap;
	if (sb->alloc)
		free(sb->buf);
	strbuf_init(sb, cap);
}

char *strbuf_detach(struct strbuf *sb)
{
	char *s = sb->alloc ? sb->buf : xstrdup("");
	size_t cap = sb->cap;
	strbuf_init(sb, cap);
	return s;
}

int strbuf_grow(struct strbuf *sb, size_t extra)
{
	size_t want;
	if (extra > cap_of(sb) || sb->len > cap_of(sb) - extra)
		return -E2BIG;
	want = sb->len + extra + 1;
	if (want <= sb->alloc)
		return 0;
	size_t n = sb->alloc ? sb->alloc : 64;
	while (n < want)
		n = n < SIZE_MAX / 2 ? n * 2 : want;
	if (sb->alloc) {
		sb->buf = xrealloc(sb->buf, n);
	} else {
		sb->buf = xmalloc(n);
		sb->buf[0] = '\0';
	}
	sb->alloc = n;
	return 0;
}

void strbuf_setlen(struct strbuf *sb, size_t n)
{
	if (n > sb->len)
		abort(); /* a caller bug, never input-driven */
	sb->len = n;
	if (sb->alloc)
		sb->buf[n] = '\0';
}

int strbuf_add(struct strbuf *sb, const void *data, size_t n)
{
	int r = strbuf_grow(sb, n);
	if (r < 0)
		return r;
	if (n == 0)
		return 0;
	memcpy(sb->buf + sb->len, data, n);
	sb->len += n;
	sb->buf[sb->len] = '\0';
	return 0;
}

int strbuf_addstr(struct strbuf *sb, const char *s)
{
	return strbuf_add(sb, s, strlen(s));
}

int strbuf_addch(struct strbuf *sb, char c)
{
	return strbuf_add(sb, &c, 1);
}

int strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap)
{
	va_list cp;
	int n;
	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return -EINVAL;
	int r = strbuf_grow(sb, (size_t)n);
	if (r < 0)
		return r;
	vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
	sb->len += (size_t)n;
	return 0;
}

int strbuf_addf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = strbuf_vaddf(sb, fmt, ap);
	va_end(ap);
	return r;
}

int strbuf_add_bytes(struct strbuf *sb, double bytes, int decimals)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	size_t u = 0;
	while (bytes >= 1024 && u + 1 < ARRAY_SIZE(unit)) {
		bytes /= 1024;
		u++;
	}
	if (u == 0)
		return strbuf_addf(sb, "%.0f B", bytes);
	return strbuf_addf(sb, "%.*f %s", decimals, bytes, unit[u]);
}

void strbuf_rtrim(struct strbuf *sb)
{
	size_t n = sb->len;
	while (n > 0 && (sb->buf[n - 1] == '\n' || sb->buf[n - 1] == ' ' ||
			 sb->buf[n - 1] == '\t' || sb->buf[n - 1] == '\r'))
		n--;
	strbuf_setlen(sb, n);
}

int fd_write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int strbuf_read_fd(struct strbuf *sb, int fd)
{
	for (;;) {
		size_t room = cap_of(sb) - sb->len;
		if (room == 0) {
			char probe;
			ssize_t k = read(fd, &probe, 1);
			return k == 0 ? 0 : -E2BIG;
		}
		size_t chunk = room < 65536 ? room : 65536;
		int r = strbuf_grow(sb, chunk);
		if (r < 0)
			return r;
		ssize_t k = read(fd, sb->buf + sb->len, chunk);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (k == 0)
			return 0;
		sb->len += (size_t)k;
		sb->buf[sb->len] = '\0';
	}
}

int strbuf_read_file(struct strbuf *sb, const char *path)
{
	_cleanup_fd_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	return strbuf_read_fd(sb, fd);
}
