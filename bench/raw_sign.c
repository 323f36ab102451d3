/* SPDX-License-Identifier: MIT */
/*
 * strata-raw-sign: the ceiling of writing one-op change sets, beside
 * strata-raw-verify's ceiling of checking them. Calls libsodium's
 * crypto_sign_detached on a ring of ~250-byte messages (the size of a
 * one-op change set) with one Ed25519 key, on one thread, for about
 * --seconds, and prints the rate. No Strata code is involved.
 *   strata-raw-sign [--seconds S] [--bytes N] [--json]
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <sodium.h>

#define RING 256 /* distinct messages, so no single input stays hot in cache */

static double clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"seconds", required_argument, NULL, 's'}, {"bytes", required_argument, NULL, 'b'},
		{"json", no_argument, NULL, 'j'},          {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
	unsigned char sig[crypto_sign_BYTES];
	unsigned char *msgs = NULL;
	double seconds = 2.0, t0, t1, c0, elapsed, cpu;
	unsigned long bytes = 250, signed_n = 0;
	int json = 0, opt, ret = 1;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 's': seconds = strtod(optarg, NULL); break;
		case 'b': bytes = strtoul(optarg, NULL, 10); break;
		case 'j': json = 1; break;
		case 'h':
			printf("usage: strata-raw-sign [--seconds S] [--bytes N] [--json]\n"
			       "Single-thread Ed25519 signs/s of libsodium on N-byte messages (default 250,\n"
			       "for about S seconds, default 2).\n");
			return 0;
		default: return 1;
		}
	}
	if (seconds <= 0 || bytes == 0 || bytes > 1 << 20) {
		fprintf(stderr, "strata-raw-sign: bad --seconds or --bytes\n");
		return 1;
	}
	if (sodium_init() < 0) {
		fprintf(stderr, "strata-raw-sign: libsodium cannot start\n");
		return 1;
	}
	if (!(msgs = malloc(RING * bytes))) {
		fprintf(stderr, "strata-raw-sign: out of memory\n");
		goto out;
	}
	crypto_sign_keypair(pk, sk);
	randombytes_buf(msgs, RING * bytes);
	crypto_sign_detached(sig, NULL, msgs, bytes, sk); /* warm-up, not timed */
	t0 = clock_s(CLOCK_MONOTONIC);
	c0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
	do {
		for (size_t i = 0; i < RING; i++)
			crypto_sign_detached(sig, NULL, msgs + i * bytes, bytes, sk);
		signed_n += RING;
		t1 = clock_s(CLOCK_MONOTONIC);
	} while (t1 - t0 < seconds);
	elapsed = t1 - t0;
	cpu = clock_s(CLOCK_THREAD_CPUTIME_ID) - c0;
	/* the last signature must verify, or the loop measured nothing useful */
	if (crypto_sign_verify_detached(sig, msgs + (RING - 1) * bytes, bytes, pk) != 0) {
		fprintf(stderr, "strata-raw-sign: the last signature does not verify\n");
		goto out;
	}
	if (json)
		printf("{\"signs_per_s\": %.0f, \"signs_per_cpu_s\": %.0f, \"signs\": %lu, \"seconds\": %.3f, "
		       "\"cpu_seconds\": %.3f, \"message_bytes\": %lu}\n",
		       signed_n / elapsed, signed_n / cpu, signed_n, elapsed, cpu, bytes);
	else
		printf("%.0f signs/s (%lu in %.2f s, %.2f s of CPU: %.0f per CPU-second; %lu-byte messages, 1 thread)\n",
		       signed_n / elapsed, signed_n, elapsed, cpu, signed_n / cpu, bytes);
	ret = 0;
out:
	sodium_memzero(sk, sizeof sk);
	free(msgs);
	return ret;
}
