/* Fuzz target: `ssh -G` output, where the supervisor connects an ssh job's socket (ssh.h). */
#include "base/zkeep.h"
#include "replication/ssh.h"

#include <sys/socket.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Whatever comes in: either a hostname and a port in 1..65535 come out, or nothing. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = xstrndup((const char *)data, size);
	struct ssh_destination d = SSH_DESTINATION_INIT;
	struct strbuf err = STRBUF_INIT;
	int r = ssh_destination_parse(text, &d, &err);
	if (r == 0 && (!d.hostname || !*d.hostname || d.port < 1 || d.port > 65535))
		abort();
	if (r < 0 && (d.hostname || d.proxy || !err.len))
		abort();
	if (d.family != AF_UNSPEC && d.family != AF_INET && d.family != AF_INET6)
		abort();
	ssh_destination_release(&d);
	strbuf_release(&err);
	free(text);
	return 0;
}
