/*
 * driver.c - replay a corpus through a fuzz target without libFuzzer.
 *
 * Each fuzz target defines LLVMFuzzerTestOneInput(). Built with -Dfuzz=true
 * under clang, libFuzzer provides main(); otherwise this file does: it feeds
 * every file named on the command line (or every file in a directory) to the
 * target once, so the corpus is a regression test in every build, and the
 * sanitizer build checks it too.
 */
#include "base/zkeep.h"
#include "base/strbuf.h"

#include <dirent.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path)
{
	struct strbuf sb;
	strbuf_init(&sb, 1 << 20);
	int r = strbuf_read_file(&sb, path);
	if (r < 0) {
		fprintf(stderr, "%s: %s\n", path, strerror(-r));
		return 1;
	}
	LLVMFuzzerTestOneInput((const uint8_t *)sb.buf, sb.len);
	strbuf_release(&sb);
	return 0;
}

int main(int argc, char **argv)
{
	int fails = 0, n = 0;
	for (int i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
			DIR *d = opendir(argv[i]);
			struct dirent *e;
			while (d && (e = readdir(d))) {
				if (e->d_name[0] == '.')
					continue;
				char *p = xasprintf("%s/%s", argv[i], e->d_name);
				fails += replay_file(p);
				n++;
				free(p);
			}
			if (d)
				closedir(d);
		} else {
			fails += replay_file(argv[i]);
			n++;
		}
	}
	/* TAP, so meson shows the count. */
	printf("1..1\n%s 1 - replayed %d inputs\n", fails ? "not ok" : "ok", n);
	return fails ? 1 : 0;
}
