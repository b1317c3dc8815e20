// The byte stream the test peers (vsock-peer, net-peer) send, and the
// checksum they print: xorshift64's words, low byte first, so any chunking
// of the stream gives the same bytes; FNV-1a 64 over what was sent or
// received. tests/e2e/vsock_host.cpp makes the same stream on the host.
#pragma once
#include <stddef.h>
#include <stdint.h>

struct pattern { uint64_t state, word; int left; };

static inline void pattern_fill(struct pattern* p, unsigned char* buf, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (p->left == 0) {
      p->state ^= p->state << 13; p->state ^= p->state >> 7; p->state ^= p->state << 17;
      p->word = p->state; p->left = 8;
    }
    buf[i] = (unsigned char)p->word; p->word >>= 8; p->left--;
  }
}

static const uint64_t fnv1a_basis = 0xcbf29ce484222325ull;

static inline void fnv1a(uint64_t* h, const unsigned char* buf, size_t n) {
  for (size_t i = 0; i < n; i++) { *h ^= buf[i]; *h *= 0x100000001b3ull; }
}
