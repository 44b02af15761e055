/*
 * tests/fuzz/fuzz_response.c -- libFuzzer harness for the client's only
 * parser of untrusted bytes: wire_decode(), which turns a server's
 * Response body into the client library's structs.
 *
 * The first input byte picks what the caller expects (each body kind,
 * with the id 1 outstanding); the rest is the body.  Whatever comes back,
 * nothing may be allocated on a failure, and a decoded status must be
 * freed by eid_status_clear() alone (LeakSanitizer checks).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "eid/client.h"
#include "wire.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum wire_body kinds[] = { WIRE_BODY_VERIFY,
		WIRE_BODY_VERIFY_BATCH, WIRE_BODY_REVOKE, WIRE_BODY_STATUS,
		WIRE_BODY_REVOKE_BATCH, WIRE_BODY_LIST_REVOCATIONS };
	static struct eid_verify_res	 res[4];
	static struct eid_revocation	 revs[8];
	struct eid_revocation		 after;
	struct eid_status		 st;
	struct wire_answer		 ans;
	uint64_t			 seqs[4];
	char				 err[256];

	if (size < 1)
		return 0;
	memset(&ans, 0, sizeof(ans));
	memset(&st, 0, sizeof(st));
	memset(&after, 0, sizeof(after));
	ans.expect = kinds[data[0] % (sizeof(kinds) / sizeof(kinds[0]))];
	ans.id = 1;
	ans.res = res;
	ans.nres = ans.expect == WIRE_BODY_VERIFY_BATCH ? 4 : 1;
	ans.status = &st;
	ans.seqs = seqs;
	ans.nseqs = 4;
	ans.revs = revs;
	ans.maxrevs = 8;
	ans.list_kind = data[0] & 0x80 ? EID_REVOKE_TOKEN : 0;
	after.kind = EID_REVOKE_TOKEN;
	memcpy(after.value, "m", 2);
	ans.list_after = data[0] & 0x40 ? &after : NULL;
	(void)wire_decode(data + 1, size - 1, &ans, err, sizeof(err));
	eid_status_clear(&st);
	return 0;
}
