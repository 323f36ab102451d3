/* SPDX-License-Identifier: MIT */
/*
 * Helpers of the fault harness (see fault.h): the seeded PRNG, background
 * CLI runs the test can kill, the TCP relay that partitions a link, and the
 * end-of-test checks (convergence, nothing committed lost, audits).
 */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "fault.h"

/* --- randomness and soak --- */

static uint64_t rng_state;

uint64_t fault_seed(const char *test)
{
	const char *v = getenv("STRATA_FAULT_SEED");
	uint64_t seed;

	if (v && *v)
		seed = strtoull(v, NULL, 0);
	else
		seed = (net_now_ms() * 0x9e3779b97f4a7c15ull) ^ ((uint64_t)getpid() << 32);
	rng_state = seed ? seed : 1;
	cr_log_info("%s: seed %llu (replay with STRATA_FAULT_SEED=%llu)", test, (unsigned long long)seed,
		    (unsigned long long)seed);
	fprintf(stderr, "%s: seed %llu (replay with STRATA_FAULT_SEED=%llu)\n", test, (unsigned long long)seed,
		(unsigned long long)seed);
	return seed;
}

uint64_t fault_rand(uint64_t n)
{
	/* splitmix64: small, and the same sequence everywhere for a seed */
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	z ^= z >> 31;
	return n ? z % n : 0;
}

unsigned fault_rounds(unsigned def)
{
	const char *v = getenv("STRATA_FAULT_ROUNDS");
	unsigned long n;

	if (!v || !*v)
		return def;
	n = strtoul(v, NULL, 10);
	return n > 0 && n < 1000000 ? (unsigned)n : def;
}

/* --- background CLI runs --- */

#define MAX_ARGS 32

static int decode(int st)
{
	return WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? 128 + WTERMSIG(st) : -1;
}

void fault_spawn(struct fault_proc *p, const char *arg, ...)
{
	static unsigned serial;
	char *argv[MAX_ARGS];
	size_t n = 0;
	pid_t parent = getpid();
	va_list ap;

	memset(p, 0, sizeof *p);
	argv[n++] = (char *)net_strata();
	va_start(ap, arg);
	for (const char *a = arg; a; a = va_arg(ap, const char *)) {
		cr_assert_lt(n, MAX_ARGS - 1, "too many arguments");
		argv[n++] = (char *)a;
	}
	va_end(ap);
	argv[n] = NULL;
	serial++;
	snprintf(p->out, sizeof p->out, "%s/run%u.out", net_tmp, serial);
	snprintf(p->err, sizeof p->err, "%s/run%u.err", net_tmp, serial);
	p->status = -1;
	p->started_ms = net_now_ms();
	p->pid = fork();
	cr_assert_geq(p->pid, 0, "fork: %s", strerror(errno));
	if (p->pid == 0) {
		int o, e, nul;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		o = open(p->out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		e = open(p->err, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (o < 0 || e < 0 || nul < 0)
			_exit(127);
		dup2(nul, STDIN_FILENO);
		dup2(o, STDOUT_FILENO);
		dup2(e, STDERR_FILENO);
		execv(argv[0], argv);
		_exit(127);
	}
}

bool fault_done(struct fault_proc *p)
{
	int st;

	if (p->status >= 0)
		return true;
	if (waitpid(p->pid, &st, WNOHANG) != p->pid)
		return false;
	p->status = decode(st);
	return true;
}

bool fault_kill(struct fault_proc *p)
{
	int st;

	if (fault_done(p))
		return false;
	kill(p->pid, SIGKILL);
	while (waitpid(p->pid, &st, 0) < 0 && errno == EINTR)
		;
	p->status = decode(st);
	/* it may have exited by itself just before the signal */
	return WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL;
}

void fault_wait(struct fault_proc *p, unsigned timeout_ms)
{
	uint64_t deadline = net_now_ms() + timeout_ms;

	while (!fault_done(p)) {
		if (net_now_ms() > deadline) {
			fault_kill(p);
			cr_assert_fail("a CLI run did not finish within %u ms: %s\n%s", timeout_ms, fault_stderr(p),
				       net_diag());
		}
		net_sleep_ms(5);
	}
}

const char *fault_stderr(const struct fault_proc *p)
{
	return net_own(net_read_file(p->err), free);
}

/* --- a TCP relay --- */

#define RELAY_PAIRS 16
#define RELAY_BUF 65536

struct relay_dir {
	char buf[RELAY_BUF];
	size_t off, len;
};

struct relay_pair {
	int fd[2];                /* 0: the client side, 1: the upstream (-1 until connected) */
	struct relay_dir to[2];   /* to[k]: bytes read from fd[1-k], to write to fd[k] */
	bool eof;                 /* an end closed: flush what is read, then close both */
};

struct fault_relay {
	int lfd;
	unsigned port, to_port;
	char endpoint[64];
	pthread_t thread;
	atomic_int mode;
	atomic_int applied; /* the mode the relay's loop works in now */
	atomic_uint accepted;
	atomic_bool stop;
	struct relay_pair pair[RELAY_PAIRS];
	size_t npairs;
};

static void set_nonblock(int fd)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

static void pair_close(struct fault_relay *r, size_t i)
{
	for (int k = 0; k < 2; k++)
		if (r->pair[i].fd[k] >= 0)
			close(r->pair[i].fd[k]);
	r->pair[i] = r->pair[--r->npairs];
}

static int connect_upstream(unsigned port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
		close(fd);
		fd = -1;
	}
	if (fd >= 0)
		set_nonblock(fd);
	return fd;
}

/* Moves bytes of direction k (read fd[1-k], write fd[k]); false when the
 * pair is finished. */
static bool pump_dir(struct relay_pair *p, int k, short rev_from)
{
	struct relay_dir *d = &p->to[k];

	if (d->len == 0 && !p->eof && (rev_from & (POLLIN | POLLHUP | POLLERR))) {
		ssize_t n = read(p->fd[1 - k], d->buf, sizeof d->buf);

		if (n > 0) {
			d->off = 0;
			d->len = (size_t)n;
		} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			p->eof = true;
		}
	}
	while (d->len) {
		ssize_t n = send(p->fd[k], d->buf + d->off, d->len, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			return false;
		}
		d->off += (size_t)n;
		d->len -= (size_t)n;
	}
	return !(p->eof && d->len == 0 && p->to[1 - k].len == 0);
}

static void *relay_main(void *arg)
{
	struct fault_relay *r = arg;
	int last = FAULT_PASS;

	while (!atomic_load(&r->stop)) {
		struct pollfd pf[1 + 2 * RELAY_PAIRS];
		int mode = atomic_load(&r->mode), np = 1;

		if (mode != last) {
			if (mode == FAULT_CUT)
				while (r->npairs)
					pair_close(r, 0);
			last = mode;
		}
		atomic_store(&r->applied, mode);
		if (mode == FAULT_PASS)
			for (size_t i = 0; i < r->npairs;) {
				if (r->pair[i].fd[1] < 0 && (r->pair[i].fd[1] = connect_upstream(r->to_port)) < 0) {
					pair_close(r, i); /* the far end is down: as a refused connection */
					continue;
				}
				i++;
			}
		pf[0] = (struct pollfd){.fd = r->lfd, .events = POLLIN};
		if (mode == FAULT_PASS)
			for (size_t i = 0; i < r->npairs; i++)
				for (int k = 0; k < 2; k++) {
					struct relay_pair *p = &r->pair[i];

					pf[np++] = (struct pollfd){
						.fd = p->fd[k],
						.events = (short)((p->to[1 - k].len == 0 ? POLLIN : 0) |
								  (p->to[k].len ? POLLOUT : 0))};
				}
		if (poll(pf, (nfds_t)np, 50) < 0 && errno != EINTR)
			break;
		if (pf[0].revents & POLLIN) {
			int fd = accept(r->lfd, NULL, NULL);

			if (fd >= 0) {
				fcntl(fd, F_SETFD, FD_CLOEXEC);
				set_nonblock(fd);
				atomic_fetch_add(&r->accepted, 1);
				if (mode == FAULT_CUT || r->npairs == RELAY_PAIRS) {
					close(fd);
				} else {
					struct relay_pair *p = &r->pair[r->npairs++];

					memset(p, 0, sizeof *p);
					p->fd[0] = fd;
					p->fd[1] = mode == FAULT_PASS ? connect_upstream(r->to_port) : -1;
					if (mode == FAULT_PASS && p->fd[1] < 0)
						pair_close(r, r->npairs - 1);
				}
			}
		}
		if (mode != FAULT_PASS)
			continue;
		/* pf[1..] was built from the pairs before any accept: walk it back
		 * so that closing pair i (moving the last into i) is safe */
		for (size_t i = (size_t)(np - 1) / 2; i-- > 0;) {
			struct relay_pair *p = &r->pair[i];
			bool alive = pump_dir(p, 1, pf[1 + 2 * i].revents) && pump_dir(p, 0, pf[2 + 2 * i].revents);

			if (!alive || (pf[1 + 2 * i].revents | pf[2 + 2 * i].revents) & POLLNVAL)
				pair_close(r, i);
		}
	}
	return NULL;
}

static void relay_free(void *arg)
{
	struct fault_relay *r = arg;

	atomic_store(&r->stop, true);
	pthread_join(r->thread, NULL);
	while (r->npairs)
		pair_close(r, 0);
	close(r->lfd);
	free(r);
}

struct fault_relay *fault_relay_new(unsigned to_port)
{
	struct fault_relay *r = calloc(1, sizeof *r);
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t alen = sizeof a;
	int one = 1;

	cr_assert_not_null(r);
	r->to_port = to_port;
	atomic_init(&r->mode, FAULT_PASS);
	atomic_init(&r->applied, FAULT_PASS);
	atomic_init(&r->accepted, 0);
	atomic_init(&r->stop, false);
	r->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert_geq(r->lfd, 0, "socket: %s", strerror(errno));
	setsockopt(r->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(r->lfd, (struct sockaddr *)&a, sizeof a), 0, "bind: %s", strerror(errno));
	cr_assert_eq(listen(r->lfd, 16), 0, "listen: %s", strerror(errno));
	cr_assert_eq(getsockname(r->lfd, (struct sockaddr *)&a, &alen), 0);
	set_nonblock(r->lfd);
	r->port = ntohs(a.sin_port);
	snprintf(r->endpoint, sizeof r->endpoint, "tcp://127.0.0.1:%u", r->port);
	cr_assert_eq(pthread_create(&r->thread, NULL, relay_main, r), 0);
	return net_own(r, relay_free);
}

const char *fault_relay_endpoint(const struct fault_relay *r)
{
	return r->endpoint;
}

void fault_relay_set(struct fault_relay *r, enum fault_relay_mode m)
{
	uint64_t deadline = net_now_ms() + 10000;

	atomic_store(&r->mode, (int)m);
	while (atomic_load(&r->applied) != (int)m) {
		cr_assert_lt(net_now_ms(), deadline, "the relay did not switch modes within 10 s");
		net_sleep_ms(5);
	}
}

unsigned fault_relay_accepted(const struct fault_relay *r)
{
	return atomic_load(&((struct fault_relay *)r)->accepted);
}

unsigned fault_port(const struct net_node *n)
{
	const char *c = strrchr(n->listen, ':');

	cr_assert_not_null(c, "%s has no listen endpoint", n->label);
	return (unsigned)strtoul(c + 1, NULL, 10);
}

void fault_set_parent_endpoint(const struct net_node *n, const char *endpoint)
{
	char path[512], *text, *out, *p;
	size_t olen = 0;
	bool done = false;
	FILE *f;

	snprintf(path, sizeof path, "%s/strata.conf", n->dir);
	text = net_own(net_read_file(path), free);
	out = net_own(malloc(strlen(text) + strlen(endpoint) + 32), free);
	for (p = text; *p;) {
		char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) + 1 : strlen(p);

		if (!done && strncmp(p, "endpoint", 8) == 0) {
			olen += (size_t)sprintf(out + olen, "endpoint = %s\n", endpoint);
			done = true;
		} else {
			memcpy(out + olen, p, len);
			olen += len;
		}
		p += len;
	}
	out[olen] = '\0';
	cr_assert(done, "%s names no parent endpoint:\n%s", path, text);
	cr_assert_not_null(f = fopen(path, "w"));
	fputs(out, f);
	cr_assert_eq(fclose(f), 0);
	net_release(text);
	net_release(out);
}

/* --- what a network must hold --- */

bool fault_entry_hash(const struct net_node *n, const uint8_t author[KEY_BYTES], const char *feed, uint64_t seq,
		      uint8_t hash[HASH_BYTES])
{
	char path[512];
	struct store *s = NULL;
	struct store_txn *t = NULL;
	struct err e = {0};
	const uint8_t *b;
	size_t len;
	int ret;

	snprintf(path, sizeof path, "%s/store", n->dir);
	ret = store_open(&s, path, STORE_RDONLY, &e);
	cr_assert_eq(ret, 0, "cannot open the store of %s: %s", n->label, e.msg);
	if ((ret = store_txn_begin(s, false, &t, &e)) == 0)
		ret = store_log_get(t, author, feed, seq, &b, &len, hash, &e);
	store_txn_abort(&t);
	store_close(&s);
	cr_assert(ret == 0 || ret == -ENOENT, "cannot read the log of %s: %s", n->label, e.msg);
	return ret == 0;
}

static int index_of(const struct fault_net *net, const uint8_t key[KEY_BYTES])
{
	for (size_t i = 0; i < net->n; i++)
		if (memcmp(net->node[i]->key, key, KEY_BYTES) == 0)
			return (int)i;
	return -1;
}

static bool is_ancestor(const struct fault_net *net, int anc, int of)
{
	for (int p = net->parent[of]; p >= 0; p = net->parent[p])
		if (p == anc)
			return true;
	return false;
}

/* Should node m hold (author a)'s feed? */
static bool flows_to(const struct fault_net *net, int m, int a, const char *feed)
{
	if (m == a || strcmp(feed, "trust") == 0)
		return true;
	if (strcmp(feed, "up") == 0 || strcmp(feed, "report") == 0)
		return is_ancestor(net, m, a);
	if (strcmp(feed, "down") == 0 || strcmp(feed, "notice") == 0)
		return is_ancestor(net, a, m);
	return false;
}

struct commit_rec {
	int author;
	char feed[64];
	uint64_t seq;
	uint8_t hash[HASH_BYTES];
};

struct fault_commits {
	struct commit_rec *v;
	size_t n, cap;
	const struct net_node *nodes[NET_MAX_NODES];
	size_t nnodes;
};

static void commits_free(void *p)
{
	struct fault_commits *c = p;

	free(c->v);
	free(c);
}

struct fault_commits *fault_commits_new(void)
{
	struct fault_commits *c = calloc(1, sizeof *c);

	cr_assert_not_null(c);
	return net_own(c, commits_free);
}

void fault_commits_note(struct fault_commits *c, const struct net_node *author)
{
	struct store_head *h;
	size_t n = net_heads(author, &h);
	int a = -1;

	for (size_t i = 0; i < c->nnodes; i++)
		if (c->nodes[i] == author)
			a = (int)i;
	if (a < 0) {
		cr_assert_lt(c->nnodes, NET_MAX_NODES);
		c->nodes[a = (int)c->nnodes++] = author;
	}
	for (size_t i = 0; i < n; i++) {
		struct commit_rec *r;

		if (memcmp(h[i].author, author->key, KEY_BYTES) != 0 || strlen(h[i].feed) >= sizeof r->feed)
			continue;
		if (c->n == c->cap) {
			c->cap = c->cap ? 2 * c->cap : 64;
			cr_assert_not_null(c->v = realloc(c->v, c->cap * sizeof *c->v));
		}
		r = &c->v[c->n++];
		r->author = a;
		memcpy(r->feed, h[i].feed, strlen(h[i].feed) + 1);
		r->seq = h[i].seq;
		memcpy(r->hash, h[i].hash, HASH_BYTES);
	}
	net_release(h);
}

size_t fault_commits_check(struct fault_commits *c, const struct fault_net *net)
{
	size_t checked = 0;

	for (size_t i = 0; i < c->n; i++) {
		const struct commit_rec *r = &c->v[i];
		const struct net_node *author = c->nodes[r->author];
		int a = index_of(net, author->key);

		cr_assert_geq(a, 0, "%s is not in the network", author->label);
		for (size_t m = 0; m < net->n; m++) {
			uint8_t hash[HASH_BYTES];

			if (!flows_to(net, (int)m, a, r->feed))
				continue;
			cr_assert(fault_entry_hash(net->node[m], author->key, r->feed, r->seq, hash),
				  "LOST: %s no longer holds %s's committed %s #%llu", net->node[m]->label, author->label,
				  r->feed, (unsigned long long)r->seq);
			cr_assert(memcmp(hash, r->hash, HASH_BYTES) == 0,
				  "%s holds another %s #%llu of %s than was committed", net->node[m]->label, r->feed,
				  (unsigned long long)r->seq, author->label);
			checked++;
		}
	}
	return checked;
}

bool fault_converged(const struct fault_net *net, char *why)
{
	for (size_t a = 0; a < net->n; a++) {
		struct store_head *h;
		size_t n = net_heads(net->node[a], &h);

		for (size_t i = 0; i < n; i++) {
			if (memcmp(h[i].author, net->node[a]->key, KEY_BYTES) != 0)
				continue;
			for (size_t m = 0; m < net->n; m++) {
				uint64_t seq;

				if (m == a || !flows_to(net, (int)m, (int)a, h[i].feed))
					continue;
				if ((seq = net_head(net->node[m], h[i].author, h[i].feed, NULL)) != h[i].seq) {
					if (why)
						snprintf(why, 512, "%s holds %s's %s up to #%llu of #%llu", net->node[m]->label,
							 net->node[a]->label, h[i].feed, (unsigned long long)seq,
							 (unsigned long long)h[i].seq);
					net_release(h);
					return false;
				}
			}
		}
		net_release(h);
	}
	return true;
}

void fault_wait_converged(const struct fault_net *net, unsigned timeout_ms)
{
	uint64_t deadline = net_now_ms() + timeout_ms;
	char why[512] = "";

	while (!fault_converged(net, why)) {
		if (net_now_ms() > deadline)
			cr_assert_fail("no convergence within %u ms: %s\n%s", timeout_ms, why, net_diag());
		net_sleep_ms(100);
	}
}

void fault_audit_all(const struct fault_net *net)
{
	const struct net_node *root = NULL;

	for (size_t i = 0; i < net->n; i++)
		if (net->parent[i] < 0)
			root = net->node[i];
	cr_assert_not_null(root);
	for (size_t i = 0; i < net->n; i++) {
		struct net_run r;

		net_run(&r, "audit", "-d", net->node[i]->dir, "--root", root->hex, NULL);
		cr_assert_eq(r.status, 0, "audit of %s: exit %d\n%s%s", net->node[i]->label, r.status, r.out, r.err);
		net_run_free(&r);
	}
}

void fault_verify_all(const struct fault_net *net)
{
	for (size_t i = 0; i < net->n; i++) {
		char out[4096];

		cr_assert_eq(net_node_verify(net->node[i], out, sizeof out), 0, "verify %s: %s", net->node[i]->label,
			     out);
	}
}
