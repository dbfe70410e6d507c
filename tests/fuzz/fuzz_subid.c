/* Fuzz target: /etc/subuid and /etc/subgid text, and /proc/PID/uid_map
 * (base/subid.h). The files are root's, but a tool that writes them (usermod,
 * a configuration manager) may leave any shape behind, and a range read too
 * narrowly is a hole. */
#include "base/zkeep.h"
#include "base/subid.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A hit holds its id, names a line that exists, and its owner is a string. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint64_t ids[] = { 0, 1, 60700, 61184, 65519, 100000, 4294967295u };
	size_t lines = 1;
	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	for (size_t i = 0; i < ARRAY_SIZE(ids); i++) {
		struct subid_range r;
		int found = subid_find((const char *)data, size, ids[i], &r);
		if (found != 0 && found != 1)
			abort();
		if (found && (ids[i] < r.first || ids[i] - r.first >= r.count || r.line == 0 ||
			      r.line > lines || strlen(r.owner) >= sizeof(r.owner)))
			abort();
		/* the same text as a /proc/PID/uid_map */
		int mapped = subid_map_find((const char *)data, size, ids[i]);
		if (mapped != 0 && mapped != 1)
			abort();
	}
	return 0;
}
