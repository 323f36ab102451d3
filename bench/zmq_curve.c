/* SPDX-License-Identifier: MIT */
/*
 * strata-zmq-curve: the ceiling of moving batches between two nodes. A
 * DEALER (CURVE client, as a child's link) sends --count messages of --bytes
 * each over TCP on 127.0.0.1 to a ROUTER (CURVE server, as a parent's link),
 * as fast as ZeroMQ takes them, and the ROUTER receives them; the two sides
 * have their own ZeroMQ context (so their own I/O thread, as two daemons
 * would) on two threads of this process. Timed on the receiver, from its
 * "go" to the last message. Prints messages/s and MB/s of payload. No
 * Strata code is involved: libzmq, CURVE and the loopback alone.
 *   strata-zmq-curve [--bytes N] [--count M | --mb T] [--plain] [--json]
 */
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zmq.h>

#define ENDPOINT_MAX 256   /* a bound endpoint, tcp://127.0.0.1:PORT */
#define ROUTING_ID_MAX 256 /* ZeroMQ routing ids are 1..255 bytes */

struct side {
	char endpoint[ENDPOINT_MAX];
	char server_pk[41], client_pk[41], client_sk[41];
	size_t bytes;
	unsigned long count;
	int plain;
	int failed;
};

static double clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The DEALER: says hello, waits for go, then sends everything. */
static void *sender(void *arg)
{
	struct side *s = arg;
	void *ctx = zmq_ctx_new(), *sock = ctx ? zmq_socket(ctx, ZMQ_DEALER) : NULL;
	char *buf = malloc(s->bytes), go[8];
	int linger = -1;

	if (!sock || !buf)
		goto fail;
	memset(buf, 0x5a, s->bytes);
	zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger);
	if (!s->plain && (zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, s->server_pk, 40) ||
			  zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, s->client_pk, 40) ||
			  zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, s->client_sk, 40)))
		goto fail;
	if (zmq_connect(sock, s->endpoint) || zmq_send(sock, "hello", 5, 0) != 5 || zmq_recv(sock, go, sizeof go, 0) < 0)
		goto fail;
	for (unsigned long i = 0; i < s->count; i++)
		if (zmq_send(sock, buf, s->bytes, 0) < 0)
			goto fail;
	zmq_recv(sock, go, sizeof go, 0); /* "done": everything arrived before we close */
	goto out;
fail:
	fprintf(stderr, "strata-zmq-curve: sender: %s\n", zmq_strerror(zmq_errno()));
	s->failed = 1;
out:
	free(buf);
	if (sock)
		zmq_close(sock);
	if (ctx)
		zmq_ctx_term(ctx);
	return NULL;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"bytes", required_argument, NULL, 'b'}, {"count", required_argument, NULL, 'c'},
		{"mb", required_argument, NULL, 'm'},    {"plain", no_argument, NULL, 'p'},
		{"json", no_argument, NULL, 'j'},        {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct side s = {.bytes = 300};
	char server_sk[41], id[ROUTING_ID_MAX], hello[16];
	double total_mb = 256, t0, t1, c0, cpu;
	int json = 0, opt, ret = 1, one = 1, started = 0;
	size_t idlen;
	void *ctx = NULL, *sock = NULL;
	pthread_t th;
	zmq_msg_t msg;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'b': s.bytes = strtoul(optarg, NULL, 10); break;
		case 'c': s.count = strtoul(optarg, NULL, 10); break;
		case 'm': total_mb = strtod(optarg, NULL); break;
		case 'p': s.plain = 1; break;
		case 'j': json = 1; break;
		case 'h':
			printf("usage: strata-zmq-curve [--bytes N] [--count M | --mb T] [--plain] [--json]\n"
			       "DEALER -> ROUTER over tcp://127.0.0.1 with CURVE (--plain: without): M messages\n"
			       "of N bytes (default 300), or as many as make T MB (default 256).\n");
			return 0;
		default: return 1;
		}
	}
	if (s.bytes == 0 || s.bytes > (64u << 20) || total_mb <= 0) {
		fprintf(stderr, "strata-zmq-curve: bad --bytes or --mb\n");
		return 1;
	}
	if (!s.count)
		s.count = (unsigned long)(total_mb * 1e6 / (double)s.bytes) + 1;
	if (!zmq_has("curve") && !s.plain) {
		fprintf(stderr, "strata-zmq-curve: this libzmq has no CURVE\n");
		return 1;
	}
	if (zmq_curve_keypair(s.server_pk, server_sk) || zmq_curve_keypair(s.client_pk, s.client_sk))
		goto fail;
	if (!(ctx = zmq_ctx_new()) || !(sock = zmq_socket(ctx, ZMQ_ROUTER)))
		goto fail;
	if (!s.plain && (zmq_setsockopt(sock, ZMQ_CURVE_SERVER, &one, sizeof one) ||
			 zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, server_sk, 40)))
		goto fail;
	size_t elen = sizeof s.endpoint;
	if (zmq_bind(sock, "tcp://127.0.0.1:*") || zmq_getsockopt(sock, ZMQ_LAST_ENDPOINT, s.endpoint, &elen))
		goto fail;
	if (pthread_create(&th, NULL, sender, &s)) {
		fprintf(stderr, "strata-zmq-curve: cannot start the sender thread\n");
		goto out;
	}
	started = 1;
	int n = zmq_recv(sock, id, sizeof id, 0);
	if (n <= 0 || (size_t)n > sizeof id || zmq_recv(sock, hello, sizeof hello, 0) != 5)
		goto fail;
	idlen = (size_t)n;
	c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
	t0 = clock_s(CLOCK_MONOTONIC);
	if (zmq_send(sock, id, idlen, ZMQ_SNDMORE) < 0 || zmq_send(sock, "go", 2, 0) < 0)
		goto fail;
	zmq_msg_init(&msg);
	for (unsigned long i = 0; i < s.count; i++) {
		/* identity frame, then the payload */
		if (zmq_msg_recv(&msg, sock, 0) < 0 || zmq_msg_recv(&msg, sock, 0) < 0) {
			zmq_msg_close(&msg);
			goto fail;
		}
		if (zmq_msg_size(&msg) != s.bytes) {
			fprintf(stderr, "strata-zmq-curve: a message of %zu bytes, not %zu\n", zmq_msg_size(&msg), s.bytes);
			zmq_msg_close(&msg);
			goto out;
		}
	}
	t1 = clock_s(CLOCK_MONOTONIC);
	cpu = clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
	zmq_msg_close(&msg);
	zmq_send(sock, id, idlen, ZMQ_SNDMORE);
	zmq_send(sock, "done", 4, 0);
	double el = t1 - t0, mb = (double)s.count * (double)s.bytes / 1e6;
	if (json)
		printf("{\"messages_per_s\": %.0f, \"mb_per_s\": %.1f, \"message_bytes\": %zu, \"messages\": %lu, "
		       "\"seconds\": %.3f, \"cpu_seconds_both_sides\": %.3f, \"curve\": %s}\n",
		       s.count / el, mb / el, s.bytes, s.count, el, cpu, s.plain ? "false" : "true");
	else
		printf("%.0f messages/s, %.1f MB/s (%lu messages of %zu bytes in %.2f s, %s; %.2f s of CPU, both sides)\n",
		       s.count / el, mb / el, s.count, s.bytes, el, s.plain ? "plain" : "CURVE", cpu);
	ret = 0;
	goto out;
fail:
	fprintf(stderr, "strata-zmq-curve: %s\n", zmq_strerror(zmq_errno()));
out:
	if (sock)
		zmq_close(sock);
	if (started)
		pthread_join(th, NULL);
	if (ctx)
		zmq_ctx_term(ctx);
	return ret || s.failed;
}
