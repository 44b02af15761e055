/*
 * daemon/codec.h -- the hot path's Verify request and answer, coded by
 * hand (codec.c).  Included only where the generated eid.pb-c.h is: the
 * handler, codec.c, and their tests.
 */
#ifndef EIDD_CODEC_H
#define EIDD_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "eid.pb-c.h"

/*
 * If buf (len bytes) is a Request whose body is a Verify, in the shapes
 * codec.c names: 1, with *req and *v filled as protobuf-c would fill
 * them, except that v's bytes fields point into buf (no copy, nothing to
 * free).  Else 0: unpack the frame with protobuf-c.
 */
int	codec_verify_request(const uint8_t *buf, size_t len,
	    Eid__V1__Request *req, Eid__V1__VerifyRequest *v);

/* Inner lengths, from the size pass to the pack pass. */
struct codec_sizes {
	size_t	 result;
	size_t	 identity;
};

/*
 * The packed size of resp and, with cs from that call, its bytes: both
 * what protobuf-c gives, for a Response whose body is a VerifyResult
 * (the caller sends every other body to protobuf-c).
 */
size_t	codec_verify_response_size(const Eid__V1__Response *resp,
	    struct codec_sizes *cs);
size_t	codec_verify_response_pack(const Eid__V1__Response *resp,
	    const struct codec_sizes *cs, uint8_t *out);

#endif /* EIDD_CODEC_H */
