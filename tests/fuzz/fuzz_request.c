/*
 * tests/fuzz/fuzz_request.c -- libFuzzer harness for eidd's request path:
 * the bytes of one frame body go through handler_frame() exactly as a
 * connection hands them over (protobuf unpacking under its memory budget,
 * authorization, request checks, verification against the development
 * key set, the store, the answer's encoding).
 *
 * The first input byte picks who is asking: 0 the relying party
 * rp-dichvucong, 1 the admin (Revoke, RevokeBatch, lists, Status), 2 an
 * unmapped certificate.  The store lives in a fresh temporary directory.
 * Every body is also read by daemon/codec.c: whatever it takes must read
 * as protobuf-c reads it, or the harness aborts.
 * Run from the repository root (it reads etc/eidd.dev.conf and certs/dev).
 * LeakSanitizer checks every input for leaks.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>

#include "codec.h"
#include "eidd.h"
#include "store.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct server	 fz_srv;
static struct worker	 fz_w;
static struct snap	*fz_snap;

/* worker.c needs it; main.c, which defines it, is not linked here. */
struct snap *
server_snap(struct server *srv)
{
	return snap_ref(srv->snap);
}

static const struct principal *
fz_principal(const char *name)
{
	size_t	 i;

	for (i = 0; i < fz_snap->nprincipals; i++)
		if (strcmp(fz_snap->principals[i].cp->name, name) == 0)
			return &fz_snap->principals[i];
	abort();
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static char		 dir[] = "/tmp/eidd-fuzz-XXXXXX";
	struct store_cfg	 sc;
	struct cfg		*c;
	char			 err[1024];

	(void)argc;
	(void)argv;
	log_init(LOG_LVL_ERR);
	if ((c = cfg_load("etc/eidd.dev.conf", err, sizeof(err))) == NULL ||
	    (fz_snap = snap_build(c, 1, (int64_t)time(NULL), err,
	    sizeof(err))) == NULL) {
		fprintf(stderr, "fuzz_request: %s\n", err);
		abort();
	}
	if (mkdtemp(dir) == NULL)
		abort();
	memset(&sc, 0, sizeof(sc));
	sc.dir = dir;
	sc.cache_map_bytes = 16 * 1024 * 1024;
	sc.state_map_bytes = 16 * 1024 * 1024;
	sc.leeway_s = 60;
	/* The configuration's probation, as eidd opens its store. */
	sc.probation = (size_t)c->cache_probation;
	if ((fz_srv.store = store_open(&sc, err, sizeof(err))) == NULL) {
		fprintf(stderr, "fuzz_request: %s\n", err);
		abort();
	}
	fz_srv.snap = fz_snap;
	fz_srv.nworkers = 1;
	fz_srv.workers = &fz_w;
	fz_srv.started_at = (int64_t)time(NULL);
	fz_w.id = 1;
	fz_w.srv = &fz_srv;
	fz_w.snap = fz_snap;
	fz_w.snap_gen = 1;
	if ((fz_w.rd = store_reader_new(fz_srv.store)) == NULL ||
	    (fz_w.hasher = eid_hasher_new()) == NULL)
		abort();
	return 0;
}

/* Same bytes, and both NULL when empty, as protobuf-c leaves them. */
static bool
fz_same_bytes(const ProtobufCBinaryData *a, const ProtobufCBinaryData *b)
{
	if (a->len != b->len)
		return false;
	if (a->len == 0)
		return a->data == NULL && b->data == NULL;
	return memcmp(a->data, b->data, a->len) == 0;
}

/* codec.c reads what protobuf-c reads, or leaves the frame to it. */
static void
fz_codec(const uint8_t *buf, size_t len)
{
	Eid__V1__Request	 req, *ref;
	Eid__V1__VerifyRequest	 v;

	if (codec_verify_request(buf, len, &req, &v) != 1)
		return;
	if ((ref = eid__v1__request__unpack(NULL, len, buf)) == NULL ||
	    ref->body_case != EID__V1__REQUEST__BODY_VERIFY ||
	    ref->id != req.id || ref->verify->min_level != v.min_level ||
	    ref->verify->consume != v.consume ||
	    !fz_same_bytes(&ref->verify->token, &v.token) ||
	    !fz_same_bytes(&ref->verify->audience, &v.audience) ||
	    !fz_same_bytes(&ref->verify->nonce, &v.nonce))
		abort();
	eid__v1__request__free_unpacked(ref, NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const who[] = { "rp-dichvucong", "admin", NULL };
	struct conn_info	 ci;
	struct evbuffer		*out;
	size_t			 cost = 0;

	if (size < 1 || size - 1 > 65536)
		return 0;
	memset(&ci, 0, sizeof(ci));
	ci.id = 1;
	ci.w = &fz_w;
	ci.snap = fz_snap;
	ci.principal = who[data[0] % 3] != NULL ?
	    fz_principal(who[data[0] % 3]) : NULL;
	fz_codec(data + 1, size - 1);
	if ((out = evbuffer_new()) == NULL)
		abort();
	(void)handler_frame(&ci, data + 1, size - 1, out, &cost);
	/* Something always answers: an error if nothing else. */
	if (evbuffer_get_length(out) < FRAME_HDR + 1)
		abort();
	/* Every frame costs its connection's pass something. */
	if (cost == 0)
		abort();
	evbuffer_free(out);
	store_reader_reset(fz_w.rd);
	return 0;
}
