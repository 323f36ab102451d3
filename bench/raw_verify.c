/* SPDX-License-Identifier: MIT */
/*
 * strata-raw-verify: the ceiling that `strata verify` is measured against.
 * Signs a ring of messages of ~250 bytes (the size of a one-op change set)
 * with one Ed25519 key, then calls libsodium's crypto_sign_verify_detached
 * on them in a loop, on one thread, for about --seconds, and prints the
 * rate. No Strata code is involved: this is libsodium alone on this core.
 *   strata-raw-verify [--seconds S] [--bytes N] [--json]
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#define RING 256 /* distinct messages, so no single input stays hot in cache */

static double clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double now(void)
{
	return clock_s(CLOCK_MONOTONIC);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"seconds", required_argument, NULL, 's'}, {"bytes", required_argument, NULL, 'b'},
		{"json", no_argument, NULL, 'j'},          {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
	unsigned char *msgs = NULL, *sigs = NULL;
	double seconds = 2.0, t0, t1, c0, sign_s, elapsed, cpu;
	unsigned long bytes = 250, verified = 0, bad = 0;
	int json = 0, opt, ret = 1;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 's': seconds = strtod(optarg, NULL); break;
		case 'b': bytes = strtoul(optarg, NULL, 10); break;
		case 'j': json = 1; break;
		case 'h':
			printf("usage: strata-raw-verify [--seconds S] [--bytes N] [--json]\n"
			       "Single-thread Ed25519 verifies/s of libsodium on N-byte messages (default 250,\n"
			       "for about S seconds, default 2).\n");
			return 0;
		default: return 1;
		}
	}
	if (seconds <= 0 || bytes == 0 || bytes > 1 << 20) {
		fprintf(stderr, "strata-raw-verify: bad --seconds or --bytes\n");
		return 1;
	}
	if (sodium_init() < 0) {
		fprintf(stderr, "strata-raw-verify: libsodium cannot start\n");
		return 1;
	}
	msgs = malloc(RING * bytes);
	sigs = malloc(RING * crypto_sign_BYTES);
	if (!msgs || !sigs) {
		fprintf(stderr, "strata-raw-verify: out of memory\n");
		goto out;
	}
	crypto_sign_keypair(pk, sk);
	randombytes_buf(msgs, RING * bytes);
	crypto_sign_detached(sigs, NULL, msgs, bytes, sk); /* warm-up, not timed */
	t0 = now();
	for (size_t i = 0; i < RING; i++)
		crypto_sign_detached(sigs + i * crypto_sign_BYTES, NULL, msgs + i * bytes, bytes, sk);
	sign_s = now() - t0;

	t0 = now();
	c0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
	do {
		for (size_t i = 0; i < RING; i++)
			if (crypto_sign_verify_detached(sigs + i * crypto_sign_BYTES, msgs + i * bytes, bytes, pk) != 0)
				bad++;
		verified += RING;
		t1 = now();
	} while (t1 - t0 < seconds);
	elapsed = t1 - t0;
	cpu = clock_s(CLOCK_THREAD_CPUTIME_ID) - c0;
	if (bad) {
		fprintf(stderr, "strata-raw-verify: %lu signatures did not verify\n", bad);
		goto out;
	}
	if (json)
		printf("{\"verifies_per_s\": %.0f, \"verifies_per_cpu_s\": %.0f, \"verifies\": %lu, \"seconds\": %.3f, "
		       "\"cpu_seconds\": %.3f, \"message_bytes\": %lu, \"signs_per_s\": %.0f}\n",
		       verified / elapsed, verified / cpu, verified, elapsed, cpu, bytes, RING / sign_s);
	else
		printf("%.0f verifies/s (%lu in %.2f s, %.2f s of CPU: %.0f per CPU-second; %lu-byte messages, 1 thread); "
		       "%.0f signs/s\n",
		       verified / elapsed, verified, elapsed, cpu, verified / cpu, bytes, RING / sign_s);
	ret = 0;
out:
	sodium_memzero(sk, sizeof sk);
	free(msgs);
	free(sigs);
	return ret;
}
