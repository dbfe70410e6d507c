/*
 * Fuzz target: the frames and requests of `zkeep serve` (serve_proto.h).
 * The input is a byte stream as a client would send it: frames are parsed
 * one after another; every request payload is decoded and checked against
 * a fixed policy, and the token parser gets the rest as text. An allowed
 * receive is hardened (serve_harden_receive()): it must then carry -u and
 * -x mountpoint, whatever words the client gave (an abort, -A, aside).
 */
#include "base/zkeep.h"
#include "replication/serve_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct serve_policy pol = SERVE_POLICY_INIT;
	strvec_push(&pol.receive_roots, "backup/host1");
	strvec_push(&pol.send_roots, "tank/data");
	size_t off = 0;
	while (size - off >= SERVE_HDR_LEN) {
		enum serve_frame_type t;
		uint32_t len;
		if (serve_parse_header(data + off, &t, &len) < 0)
			break;
		off += SERVE_HDR_LEN;
		if (len > size - off)
			break;
		if (t == SERVE_REQUEST) {
			struct strvec argv = STRVEC_INIT;
			struct strbuf err = STRBUF_INIT;
			if (serve_decode_request(data + off, len, &argv, &err) == 0) {
				int r = serve_policy_check(&pol, (const char *const *)argv.v, &err);
				/* allowed requests never name anything outside the roots */
				if (r == 0 && serve_is_receive((const char *const *)argv.v)) {
					bool abort = false, quarantined = false;
					for (size_t i = 2; i + 1 < argv.n; i++)
						abort |= argv.v[i][0] == '-' && strchr(argv.v[i], 'A');
					serve_harden_receive(&argv, ZFS_TYPE_FILESYSTEM);
					for (size_t i = 3; i + 1 < argv.n; i++)
						quarantined |= streq(argv.v[i], "-x") &&
							       streq(argv.v[i + 1], "mountpoint");
					if (!abort && !(quarantined && streq(argv.v[2], "-u")))
						__builtin_trap();
				}
				struct strbuf enc = STRBUF_INIT;
				serve_encode_request(&enc, (const char *const *)argv.v);
				strbuf_release(&enc);
			}
			strvec_release(&argv);
			strbuf_release(&err);
		}
		off += len;
	}
	serve_policy_release(&pol);
	return 0;
}
