/* strvec.c - see strvec.h. */
#include "base/strvec.h"
#include "base/strbuf.h"

char *strvec_empty[1];

void strvec_init(struct strvec *sv)
{
	*sv = (struct strvec)STRVEC_INIT;
}

void strvec_push_nodup(struct strvec *sv, char *s)
{
	if (sv->n + 2 > sv->alloc) {
		if (sv->n + 2 > STRVEC_MAX) {
			fprintf(stderr, "zkeep: fatal: more than %zu strings in one list\n", STRVEC_MAX);
			abort();
		}
		size_t n = sv->alloc ? sv->alloc * 2 : 8;
		if (sv->alloc)
			sv->v = xreallocarray(sv->v, n, sizeof(char *));
		else
			sv->v = xcalloc(n, sizeof(char *));
		sv->alloc = n;
	}
	sv->v[sv->n++] = s;
	sv->v[sv->n] = NULL;
}

const char *strvec_push(struct strvec *sv, const char *s)
{
	char *c = xstrdup(s);
	strvec_push_nodup(sv, c);
	return c;
}

const char *strvec_pushf(struct strvec *sv, const char *fmt, ...)
{
	va_list ap;
	char *s;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		abort();
	va_end(ap);
	strvec_push_nodup(sv, s);
	return s;
}

void strvec_pushv(struct strvec *sv, const char *const *items)
{
	for (; items && *items; items++)
		strvec_push(sv, *items);
}

void strvec_pop(struct strvec *sv)
{
	if (!sv->n)
		return;
	free(sv->v[--sv->n]);
	sv->v[sv->n] = NULL;
}

void strvec_remove(struct strvec *sv, size_t i)
{
	if (i >= sv->n)
		return;
	free(sv->v[i]);
	/* the NULL after the last entry moves down too */
	memmove(&sv->v[i], &sv->v[i + 1], (sv->n - i) * sizeof(*sv->v));
	sv->n--;
}

void strvec_release(struct strvec *sv)
{
	if (sv->alloc) {
		for (size_t i = 0; i < sv->n; i++)
			free(sv->v[i]);
		free(sv->v);
	}
	strvec_init(sv);
}

ssize_t strvec_find(const struct strvec *sv, const char *s)
{
	for (size_t i = 0; i < sv->n; i++)
		if (strcmp(sv->v[i], s) == 0)
			return (ssize_t)i;
	return -1;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void strvec_sort(struct strvec *sv)
{
	if (sv->n > 1)
		qsort(sv->v, sv->n, sizeof(char *), cmp_str);
}

void strvec_split(struct strvec *sv, const char *s, const char *seps)
{
	while (*s) {
		size_t skip = strspn(s, seps);
		s += skip;
		if (!*s)
			break;
		size_t len = strcspn(s, seps);
		strvec_push_nodup(sv, xstrndup(s, len));
		s += len;
	}
}

char *strvec_join(const struct strvec *sv, const char *sep)
{
	struct strbuf sb = STRBUF_INIT;
	for (size_t i = 0; i < sv->n; i++) {
		if (i && strbuf_addstr(&sb, sep) < 0)
			abort();
		if (strbuf_addstr(&sb, sv->v[i]) < 0)
			abort();
	}
	return strbuf_detach(&sb);
}
