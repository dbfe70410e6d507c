/*
 * Fuzz target: the guard's `zfs get -o name,property,source,value` listing
 * (zfs/recvprops.h), whose sharenfs and sharesmb values a compromised worker
 * writes, tabs and line breaks included. The input is parsed as the listing
 * before and, reversed, as the one after the worker; the repairs of the two
 * are computed, with and without the operator's own words.
 */
#include "base/zkeep.h"
#include "zfs/recvprops.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const roots[] = { "b", "p/x", NULL };
	static const char *const keep[] = { "setuid=on", "exec", NULL };
	char *rev = xmalloc(size + 1);
	for (size_t i = 0; i < size; i++)
		rev[i] = (char)data[size - 1 - i];
	struct guard_rows before = GUARD_ROWS_INIT, after = GUARD_ROWS_INIT;
	struct recv_repairs rs = RECV_REPAIRS_INIT;
	if (recv_guard_parse((const char *)data, size, roots, &before) == 0 &&
	    recv_guard_parse(rev, size, roots, &after) == 0) {
		recv_guard_repairs(&before, &after, NULL, &rs);
		recv_guard_repairs(&after, &before, keep, &rs);
		for (size_t i = 1; i < after.n; i++)
			if (strcmp(after.r[i - 1].dataset, after.r[i].dataset) > 0)
				abort(); /* sorted, as the lookups need */
	}
	recv_repairs_release(&rs);
	guard_rows_release(&before);
	guard_rows_release(&after);
	free(rev);
	return 0;
}
