/* base/proc_scan.c - see proc_scan.h. */
#include "base/zkeep.h"
#include "base/proc_scan.h"
#include "base/parse.h"
#include "base/strbuf.h"

#include <dirent.h>
#include <limits.h>

int proc_scan(const char *proc_dir, int (*fn)(const struct proc_entry *p, void *data),
	      void *data)
{
	DIR *d = opendir(proc_dir);
	if (!d)
		return -errno;
	pid_t self = getpid();
	struct dirent *de;
	int r = 0;
	while (!r && (de = readdir(d))) {
		uint64_t pid;
		if (parse_u64(de->d_name, &pid) < 0 || pid == (uint64_t)self || pid > INT_MAX)
			continue;
		_cleanup_free_ char *path = xasprintf("%s/%s/cmdline", proc_dir, de->d_name);
		_cleanup_strbuf_ struct strbuf cl = STRBUF_INIT;
		strbuf_init(&cl, PROC_CMDLINE_MAX);
		struct proc_entry p = { .pid = (pid_t)pid };
		p.read_error = strbuf_read_file(&cl, path);
		p.cmdline = cl.buf;
		p.len = cl.len;
		r = fn(&p, data);
	}
	closedir(d);
	return r;
}

void proc_cmdline_argv(const char *cmdline, size_t len, struct strvec *argv)
{
	for (size_t i = 0; i < len; i += strlen(cmdline + i) + 1)
		strvec_push(argv, cmdline + i);
}
