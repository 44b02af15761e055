/*
 * daemon/frame.c -- the length prefix of the wire protocol: a 4-byte
 * big-endian length N, 1 <= N <= max_frame, then N bytes of protobuf.
 *
 * The announced length is judged before a single byte of the body is
 * buffered for it, so a peer can never make eidd allocate what it
 * announces (STYLE.md anti-pattern 2).
 */
#include <stdint.h>

#include <event2/buffer.h>

#include "eidd.h"

int
frame_peek(struct evbuffer *in, size_t max, size_t *len)
{
	unsigned char	 h[FRAME_HDR];
	size_t		 n;

	if (evbuffer_get_length(in) < FRAME_HDR)
		return 0;
	if (evbuffer_copyout(in, h, FRAME_HDR) != FRAME_HDR)
		return 0;
	n = (size_t)h[0] << 24 | (size_t)h[1] << 16 | (size_t)h[2] << 8 |
	    (size_t)h[3];
	*len = n;
	if (n == 0 || n > max)
		return -1;
	return evbuffer_get_length(in) - FRAME_HDR >= n ? 1 : 0;
}

int
frame_header(unsigned char h[FRAME_HDR], size_t len)
{
	if (len == 0 || len > UINT32_MAX)
		return -1;
	h[0] = (unsigned char)(len >> 24);
	h[1] = (unsigned char)(len >> 16);
	h[2] = (unsigned char)(len >> 8);
	h[3] = (unsigned char)len;
	return 0;
}
