/*
 * zfs/root_receive.h - what root lets a confined worker receive (pure: no
 * I/O). The request and how it travels: zfs/root_request.h.
 */
#ifndef ZKEEP_ROOT_RECEIVE_H
#define ZKEEP_ROOT_RECEIVE_H

#include "base/zkeep.h"
#include "base/strbuf.h"
#include "base/strvec.h"

/*
 * What the job lets root receive: into target, and below it when
 * recursive; -F only with force; -o of the properties in props (the names
 * the job's own options set, NULL-terminated), -x of any; the quarantine
 * (zfs/recvprops.h) complete for a filesystem or for a volume, each
 * override as recvprops gives it or as the operator's own word in keep
 * ("k=v" for -o, "k" for -x; may be NULL); the flags s u v h, u required.
 */
struct root_recv_policy {
	const char *target;
	bool recursive;
	bool force;
	const char *const *props;
	const char *const *keep;
};

/*
 * Check a requested argv against p. 0 with out (appended) the argv root
 * runs: the request's words, plus a -x before the target for each property
 * of root_excludes[] (root_receive.c: mountpoint, canmount, quotas,
 * reservations, checksum, sync) that applies to the type, that the request
 * does not name and the job does not set: a stream's value of these is not
 * received, as it was not when the worker received without their
 * permissions. -EPERM with the reason in err.
 */
int root_recv_check(const struct root_recv_policy *p, const char *const *argv,
		    struct strvec *out, struct strbuf *err);

#endif
