/* SPDX-License-Identifier: MIT */
/*
 * Helpers of the multi-node sync tests (see net.h): node directories in a
 * temporary directory, `strata serve` daemons that die with the test
 * (PR_SET_PDEATHSIG in the child before exec, SIGKILL in the fixture's
 * .fini), CLI runs without a shell with both outputs drained together, and
 * read-only looks into a node's store through the storage API.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "net.h"
#include "testproc.h"

extern char **environ;

#define MAX_ARGS SPAWN_MAX_ARGS
#define CLI_TIMEOUT_MS (120000u)

char net_tmp[64];

static struct net_node nodes[NET_MAX_NODES];
static size_t n_nodes;

struct owned {
	void *p;
	void (*destroy)(void *);
};

static struct owned *owned;
static size_t n_owned, cap_owned;

void *net_own(void *p, void (*destroy)(void *))
{
	if (!p)
		return NULL;
	if (n_owned == cap_owned) {
		cap_owned = cap_owned ? 2 * cap_owned : 64;
		owned = realloc(owned, cap_owned * sizeof *owned);
		if (!owned)
			abort();
	}
	owned[n_owned++] = (struct owned){p, destroy};
	return p;
}

void net_release(void *p)
{
	if (!p)
		return;
	for (size_t i = n_owned; i-- > 0;)
		if (owned[i].p == p) {
			struct owned o = owned[i];

			owned[i] = owned[--n_owned];
			o.destroy(o.p);
			return;
		}
	cr_assert_fail("net_release of an object the fixture does not own");
}

static void release_all(void)
{
	while (n_owned) {
		struct owned o = owned[--n_owned];

		o.destroy(o.p);
	}
	free(owned);
	owned = NULL;
	cap_owned = 0;
}

/* --- time and waiting --- */

uint64_t net_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void net_sleep_ms(unsigned ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

bool net_wait_until(bool (*cond)(void *arg), void *arg, unsigned timeout_ms)
{
	uint64_t deadline = net_now_ms() + timeout_ms;

	for (;;) {
		if (cond(arg))
			return true;
		if (net_now_ms() > deadline)
			return false;
		net_sleep_ms(20);
	}
}

/* --- the test directory --- */

void net_remove_tree(const char *path)
{
	spawn_remove_tree(path);
}

void net_setup(void)
{
	strcpy(net_tmp, "/tmp/strata-sync-XXXXXX");
	cr_assert_not_null(mkdtemp(net_tmp), "mkdtemp: %s", strerror(errno));
	memset(nodes, 0, sizeof nodes);
	n_nodes = 0;
	unsetenv("STRATA_DIR");
	unsetenv("STRATA_MAP_SIZE");
	cr_assert_eq(keys_init(), 0, "libsodium does not start");
	srand((unsigned)(getpid() ^ (net_now_ms() * 2654435761u)));
}

void net_teardown(void)
{
	release_all();
	for (size_t i = 0; i < n_nodes; i++)
		if (nodes[i].pid > 0) {
			kill(nodes[i].pid, SIGKILL);
			waitpid(nodes[i].pid, NULL, 0);
			nodes[i].pid = 0;
		}
	if (net_tmp[0] && getenv("STRATA_TEST_KEEP"))
		fprintf(stderr, "kept %s\n", net_tmp);
	else if (net_tmp[0])
		spawn_remove_tree(net_tmp);
	net_tmp[0] = '\0';
}

const char *net_path(char out[256], const char *name)
{
	snprintf(out, 256, "%s/%s", net_tmp, name);
	return out;
}

bool net_has(const char *s, const char *needle)
{
	return s && strstr(s, needle) != NULL;
}

char *net_read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, cap = 0;

	if (f) {
		for (;;) {
			size_t n;

			if (cap - len < 65536) {
				cap = cap ? 2 * cap : 65536 + 1;
				buf = realloc(buf, cap);
				cr_assert_not_null(buf, "out of memory");
			}
			n = fread(buf + len, 1, cap - len - 1, f);
			if (n == 0)
				break;
			len += n;
		}
		fclose(f);
	}
	if (!buf)
		buf = calloc(1, 1);
	buf[len] = '\0';
	return buf;
}

size_t net_file_count_bytes(const char *path, const void *needle, size_t nl)
{
	FILE *f = fopen(path, "rb");
	size_t n = 0, len;
	uint8_t *buf;

	cr_assert_not_null(f, "cannot open %s", path);
	fseek(f, 0, SEEK_END);
	len = (size_t)ftell(f);
	fseek(f, 0, SEEK_SET);
	cr_assert_not_null(buf = malloc(len ? len : 1));
	cr_assert_eq(fread(buf, 1, len, f), len);
	fclose(f);
	for (size_t i = 0; nl && i + nl <= len; i++)
		if (memcmp(buf + i, needle, nl) == 0)
			n++;
	free(buf);
	return n;
}

size_t net_store_count(const struct net_node *n, const char *needle)
{
	char path[300];

	snprintf(path, sizeof path, "%s/store/data.mdb", n->dir);
	return net_file_count_bytes(path, needle, strlen(needle));
}

bool net_log_has(const struct net_node *n, const char *needle)
{
	char *s = net_read_file(n->log);
	bool r = strstr(s, needle) != NULL;

	free(s);
	return r;
}

const char *net_diag(void)
{
	static char buf[16384];
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n_nodes && off < sizeof buf - 1; i++) {
		struct net_node *n = &nodes[i];
		char *log = net_read_file(n->log);
		const char *tail = log + strlen(log);
		int lines = 0, st;
		const char *state = "not started";

		if (n->pid > 0) {
			pid_t r = waitpid(n->pid, &st, WNOHANG);

			if (r == n->pid) {
				n->pid = 0;
				state = WIFSIGNALED(st) ? "DIED by a signal" : "EXITED";
			} else {
				state = "running";
			}
		} else if (n->started_once) {
			state = "stopped";
		}
		while (tail > log && lines < 12)
			if (*--tail == '\n' && tail[1])
				lines++;
		off += (size_t)snprintf(buf + off, sizeof buf - off, "--- %s (%s): daemon %s; log tail:\n%.1500s\n",
					n->label, n->path, state, tail);
		free(log);
	}
	return buf;
}

/* --- processes --- */

const char *net_strata(void)
{
	static char p[4096];

	return spawn_build_path(p, sizeof p, "node/strata");
}

const char *net_gen(void)
{
	static char p[4096];

	return spawn_build_path(p, sizeof p, "bench/strata-gen-members");
}

/* Runs argv; stdout to out_file if not NULL, else captured; the output is
 * the fixture's. */
static void run_argv_in(struct net_run *r, const char *in_file, const char *out_file, char *const argv[])
{
	struct spawn_result sr;

	spawn_run_in(&sr, in_file, out_file, argv, CLI_TIMEOUT_MS * NET_SLOW);
	r->status = sr.status;
	r->out = net_own(sr.out, free);
	r->err = net_own(sr.err, free);
	r->out_len = sr.out_len;
	r->err_len = sr.err_len;
}

static void run_argv(struct net_run *r, const char *out_file, char *const argv[])
{
	run_argv_in(r, NULL, out_file, argv);
}

void net_run_in(struct net_run *r, const char *in_file, const char *arg, ...)
{
	char *argv[MAX_ARGS];
	va_list ap;

	va_start(ap, arg);
	spawn_argv(argv, net_strata(), arg, ap);
	va_end(ap);
	run_argv_in(r, in_file, NULL, argv);
}

static void strata_argv(char **argv, const char *arg, va_list ap)
{
	spawn_argv(argv, net_strata(), arg, ap);
}

void net_run(struct net_run *r, const char *arg, ...)
{
	char *argv[MAX_ARGS];
	va_list ap;

	va_start(ap, arg);
	strata_argv(argv, arg, ap);
	va_end(ap);
	run_argv(r, NULL, argv);
}

void net_ok(const char *arg, ...)
{
	char *argv[MAX_ARGS];
	struct net_run r;
	va_list ap;

	va_start(ap, arg);
	strata_argv(argv, arg, ap);
	va_end(ap);
	run_argv(&r, NULL, argv);
	cr_assert_eq(r.status, 0, "strata %s %s: exit %d\nstdout: %s\nstderr: %s", argv[1], argv[2] ? argv[2] : "",
		     r.status, r.out, r.err);
	net_run_free(&r);
}

void net_run_free(struct net_run *r)
{
	net_release(r->out);
	net_release(r->err);
	r->out = r->err = NULL;
}

static void json_free(void *p)
{
	json_decref(p);
}

json_t *net_run_json(const struct net_run *r)
{
	json_error_t je;
	json_t *j = json_loadb(r->out, r->out_len, 0, &je);

	cr_assert_not_null(j, "stdout is not JSON (%s, line %d): %s\nstderr: %s", je.text, je.line, r->out, r->err);
	return net_own(j, json_free);
}

void net_gen_members(const char *path, unsigned long n, const char *prefix, unsigned long seed)
{
	char count[32], s[32];
	char *argv[] = {(char *)net_gen(), "--count", count, "--seed", s, "--prefix", (char *)prefix, NULL};
	struct net_run r;

	snprintf(count, sizeof count, "%lu", n);
	snprintf(s, sizeof s, "%lu", seed);
	run_argv(&r, path, argv);
	cr_assert_eq(r.status, 0, "strata-gen-members: exit %d: %s", r.status, r.err);
	net_run_free(&r);
}

void net_copy_tree(const char *src, const char *dst)
{
	char *argv[] = {"/bin/cp", "-a", (char *)src, (char *)dst, NULL};
	struct net_run r;

	run_argv(&r, NULL, argv);
	cr_assert_eq(r.status, 0, "cp -a %s %s: exit %d: %s", src, dst, r.status, r.err);
	net_run_free(&r);
}

/* --- nodes --- */

/* A TCP port on 127.0.0.1 that is free now, below the ephemeral range so
 * that no outgoing connection of a daemon takes it in the meantime. */
static unsigned free_port(void)
{
	for (int tries = 0; tries < 200; tries++) {
		unsigned port = 20000 + (unsigned)(rand() % 12000);
		struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		int ok;

		cr_assert_geq(fd, 0, "socket: %s", strerror(errno));
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		ok = bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
		close(fd);
		if (ok)
			return port;
	}
	cr_assert_fail("no free TCP port found");
	return 0;
}

/* Replaces the line of DIR/strata.conf that starts with KEY by LINE. */
static void conf_set(const char *dir, const char *key, const char *line)
{
	char path[512], *text, *out, *p;
	size_t klen = strlen(key), olen = 0;
	bool done = false;
	FILE *f;

	snprintf(path, sizeof path, "%s/strata.conf", dir);
	text = net_read_file(path);
	out = malloc(strlen(text) + strlen(line) + 4);
	cr_assert_not_null(out);
	for (p = text; *p;) {
		char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) + 1 : strlen(p);

		if (!done && strncmp(p, key, klen) == 0 && (p[klen] == ' ' || p[klen] == '=')) {
			olen += (size_t)sprintf(out + olen, "%s\n", line);
			done = true;
		} else {
			memcpy(out + olen, p, len);
			olen += len;
		}
		p += len;
	}
	out[olen] = '\0';
	cr_assert(done, "%s has no line for %s:\n%s", path, key, text);
	f = fopen(path, "w");
	cr_assert_not_null(f, "cannot write %s", path);
	fputs(out, f);
	cr_assert_eq(fclose(f), 0);
	free(text);
	free(out);
}

struct net_node *net_node_init(const char *label, const char *path, bool root, bool listen)
{
	return net_node_init_level(label, path, root, listen, NULL);
}

struct net_node *net_node_init_level(const char *label, const char *path, bool root, bool listen, const char *level)
{
	struct net_node *n;
	struct net_run r;
	json_t *j;
	const char *k;
	char listen_arg[80], *argv[MAX_ARGS];
	size_t a = 0;

	cr_assert_lt(n_nodes, NET_MAX_NODES, "too many nodes");
	n = &nodes[n_nodes++];
	memset(n, 0, sizeof *n);
	snprintf(n->label, sizeof n->label, "%s", label);
	snprintf(n->path, sizeof n->path, "%s", path);
	snprintf(n->dir, sizeof n->dir, "%s/%s", net_tmp, label);
	snprintf(n->log, sizeof n->log, "%s/%s.log", net_tmp, label);
	n->root = root;
	if (listen)
		snprintf(n->listen, sizeof n->listen, "tcp://127.0.0.1:%u", free_port());
	snprintf(listen_arg, sizeof listen_arg, "%s", n->listen);
	argv[a++] = (char *)net_strata();
	argv[a++] = "init";
	argv[a++] = "-d";
	argv[a++] = n->dir;
	argv[a++] = "--name";
	argv[a++] = n->path;
	if (root)
		argv[a++] = "--root";
	if (listen) {
		argv[a++] = "--listen";
		argv[a++] = listen_arg;
	}
	if (level) {
		argv[a++] = "--level";
		argv[a++] = (char *)level;
	}
	argv[a] = NULL;
	run_argv(&r, NULL, argv);
	cr_assert_eq(r.status, 0, "strata init %s: exit %d\nstdout: %s\nstderr: %s", label, r.status, r.out, r.err);
	net_run_free(&r);
	net_run(&r, "id", "-d", n->dir, "--json", NULL);
	cr_assert_eq(r.status, 0, "id: exit %d: %s", r.status, r.err);
	j = net_run_json(&r);
	k = json_string_value(json_object_get(j, "key"));
	cr_assert(k && strlen(k) == 64, "id --json has no 64-hex key: %s", r.out);
	memcpy(n->hex, k, KEY_HEX);
	cr_assert_eq(hex_decode(n->key, KEY_BYTES, k), 0, "key %s is not hex", k);
	net_release(j);
	net_run_free(&r);
	return n;
}

void net_node_join(struct net_node *child, struct net_node *parent, ...)
{
	char *argv[MAX_ARGS], *token, file[300];
	struct net_run r;
	size_t n = 0;
	va_list ap;

	argv[n++] = (char *)net_strata();
	argv[n++] = "invite";
	argv[n++] = "-d";
	argv[n++] = parent->dir;
	argv[n++] = "--name";
	argv[n++] = child->path;
	argv[n++] = "--expires";
	argv[n++] = "1h";
	va_start(ap, parent);
	for (const char *a; (a = va_arg(ap, const char *));) {
		cr_assert_lt(n, MAX_ARGS - 1);
		argv[n++] = (char *)a;
	}
	va_end(ap);
	argv[n] = NULL;
	run_argv(&r, NULL, argv);
	cr_assert_eq(r.status, 0, "invite %s at %s: exit %d: %s", child->path, parent->path, r.status, r.err);
	token = strtok(r.out, "\n");
	cr_assert(token && strncmp(token, "strata-join:", 12) == 0, "invite printed no token: %s", r.out);
	token = net_own(strdup(token), free);
	net_run_free(&r);
	snprintf(file, sizeof file, "%s.token", child->dir);
	net_write_secret(file, token);
	net_run(&r, "join", "-d", child->dir, "--token-file", file, NULL);
	cr_assert_eq(r.status, 0, "join %s to %s: exit %d: %s\n%s", child->path, parent->path, r.status, r.err,
		     net_diag());
	net_run_free(&r);
	unlink(file);
	net_release(token);
}

void net_write_secret(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	cr_assert(fd >= 0, "cannot create %s: %s", path, strerror(errno));
	cr_assert_eq(fchmod(fd, 0600), 0);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	cr_assert_eq(write(fd, "\n", 1), 1);
	cr_assert_eq(close(fd), 0);
}

static bool log_ready_after(const struct net_node *n, size_t off)
{
	char *s = net_read_file(n->log);
	bool r = strlen(s) >= off && strstr(s + off, ": ready: key ") != NULL;

	free(s);
	return r;
}

static size_t file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (size_t)st.st_size : 0;
}

static pid_t spawn_serve(const struct net_node *n)
{
	const char *exe = net_strata();
	pid_t parent = getpid(), pid;

	pid = fork();
	cr_assert_geq(pid, 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		int fd, nul;

		/* The daemon dies with the test process, whatever kills it. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		fd = open(n->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		nul = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (fd < 0 || nul < 0)
			_exit(127);
		dup2(nul, STDIN_FILENO);
		dup2(nul, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		execl(exe, "strata", "serve", "-d", n->dir, (char *)NULL);
		_exit(127);
	}
	return pid;
}

void net_node_start(struct net_node *n)
{
	cr_assert_eq(n->pid, 0, "%s is already running", n->label);
	for (int attempt = 0;; attempt++) {
		size_t off = file_size(n->log);
		uint64_t deadline = net_now_ms() + 10000 * NET_SLOW;
		int st;

		n->pid = spawn_serve(n);
		for (;;) {
			if (log_ready_after(n, off)) {
				n->started_once = true;
				return;
			}
			if (waitpid(n->pid, &st, WNOHANG) == n->pid) {
				char *log = net_read_file(n->log);
				bool in_use = strlen(log) >= off && strstr(log + off, "cannot listen") != NULL;

				n->pid = 0;
				/* The port was taken since we picked it: before anyone
				 * knows the endpoint, another one will do. */
				if (in_use && !n->started_once && attempt < 3) {
					char line[96];

					free(log);
					snprintf(n->listen, sizeof n->listen, "tcp://127.0.0.1:%u", free_port());
					snprintf(line, sizeof line, "listen = %s", n->listen);
					conf_set(n->dir, "listen", line);
					break;
				}
				net_own(log, free);
				cr_assert_fail("strata serve for %s exited (status %d) before it was ready:\n%s", n->label,
					       spawn_status(st), strlen(log) >= off ? log + off : log);
			}
			if (net_now_ms() > deadline) {
				kill(n->pid, SIGKILL);
				waitpid(n->pid, NULL, 0);
				n->pid = 0;
				cr_assert_fail("strata serve for %s was not ready within %d s:\n%s", n->label,
					       10 * NET_SLOW, net_diag());
			}
			net_sleep_ms(10);
		}
	}
}

void net_node_stop(struct net_node *n)
{
	uint64_t deadline = net_now_ms() + 20000;
	int st = 0;
	pid_t r;

	cr_assert_gt(n->pid, 0, "%s is not running", n->label);
	kill(n->pid, SIGTERM);
	while ((r = waitpid(n->pid, &st, WNOHANG)) == 0) {
		if (net_now_ms() > deadline) {
			kill(n->pid, SIGKILL);
			waitpid(n->pid, NULL, 0);
			n->pid = 0;
			cr_assert_fail("strata serve for %s did not stop within 20 s of SIGTERM:\n%s", n->label,
				       net_diag());
		}
		net_sleep_ms(10);
	}
	n->pid = 0;
	cr_assert_eq(r > 0 ? spawn_status(st) : -1, 0, "strata serve for %s did not exit cleanly on SIGTERM (%d):\n%s",
		     n->label, spawn_status(st), net_diag());
}

void net_node_kill(struct net_node *n)
{
	cr_assert_gt(n->pid, 0, "%s is not running", n->label);
	kill(n->pid, SIGKILL);
	waitpid(n->pid, NULL, 0);
	n->pid = 0;
}

void net_stop_all(void)
{
	for (size_t i = n_nodes; i-- > 0;)
		if (nodes[i].pid > 0)
			net_node_stop(&nodes[i]);
}

void net_node_set_ops(struct net_node *n, unsigned ops)
{
	char line[64];

	snprintf(line, sizeof line, "ops_per_changeset = %u", ops);
	conf_set(n->dir, "ops_per_changeset", line);
}

void net_node_set_map_max(struct net_node *n, const char *value)
{
	char path[512], line[64], *text;
	FILE *f;

	snprintf(path, sizeof path, "%s/strata.conf", n->dir);
	snprintf(line, sizeof line, "map_max = %s", value);
	text = net_read_file(path);
	bool has = strstr(text, "\nmap_max") != NULL;
	free(text);
	if (has) {
		conf_set(n->dir, "map_max", line);
		return;
	}
	f = fopen(path, "a");
	cr_assert_not_null(f, "cannot write %s", path);
	fprintf(f, "\n[store]\n%s\n", line);
	cr_assert_eq(fclose(f), 0);
}

int net_node_verify(const struct net_node *n, char *out, size_t cap)
{
	struct net_run r;
	int st;

	net_run(&r, "verify", "-d", (char *)n->dir, NULL);
	st = r.status;
	if (out)
		snprintf(out, cap, "%s%s", r.out, r.err);
	net_run_free(&r);
	return st;
}

json_t *net_node_status(const struct net_node *n)
{
	struct net_run r;
	json_t *j;

	net_run(&r, "status", "-d", (char *)n->dir, "--json", NULL);
	cr_assert_eq(r.status, 0, "status of %s: exit %d: %s", n->label, r.status, r.err);
	j = net_run_json(&r);
	net_run_free(&r);
	return j;
}

/* --- the store, read-only --- */

static struct store *open_store(const struct net_node *n)
{
	char path[512];
	struct store *s = NULL;
	struct err e = {0};
	int ret;

	snprintf(path, sizeof path, "%s/store", n->dir);
	ret = store_open(&s, path, STORE_RDONLY, &e);
	cr_assert_eq(ret, 0, "cannot open the store of %s read-only: %s", n->label, e.msg);
	return s;
}

struct heads {
	struct store_head *v;
	size_t n, cap;
};

static int collect(const struct store_head *h, void *arg)
{
	struct heads *a = arg;

	if (a->n == a->cap) {
		a->cap = a->cap ? 2 * a->cap : 32;
		a->v = realloc(a->v, a->cap * sizeof *a->v);
		if (!a->v)
			return -ENOMEM;
	}
	a->v[a->n++] = *h;
	return 0;
}

size_t net_heads(const struct net_node *n, struct store_head **out)
{
	struct store *s = open_store(n);
	struct store_txn *t = NULL;
	struct heads h = {0};
	struct err e = {0};
	int ret = store_txn_begin(s, false, &t, &e);

	if (ret == 0)
		ret = store_heads_each(t, collect, &h, &e);
	store_txn_abort(&t);
	store_close(&s);
	*out = net_own(h.v, free);
	cr_assert_eq(ret, 0, "cannot read the heads of %s: %s", n->label, e.msg);
	return h.n;
}

uint64_t net_head(const struct net_node *n, const uint8_t author[KEY_BYTES], const char *feed, uint32_t *flags)
{
	struct store *s = open_store(n);
	struct store_txn *t = NULL;
	struct store_head h = {0};
	struct err e = {0};
	int ret = store_txn_begin(s, false, &t, &e);

	if (ret == 0)
		ret = store_head_get(t, author, feed, &h, &e);
	store_txn_abort(&t);
	store_close(&s);
	cr_assert(ret == 0 || ret == -ENOENT, "cannot read a head at %s: %s", n->label, e.msg);
	if (flags)
		*flags = ret == 0 ? h.flags : 0;
	return ret == 0 ? h.seq : 0;
}

size_t net_count(const struct net_node *n, const char *collection, const uint8_t *owner)
{
	struct store *s = open_store(n);
	struct store_txn *t = NULL;
	struct err e = {0};
	size_t count = 0;
	int ret = store_txn_begin(s, false, &t, &e);

	if (ret == 0)
		ret = store_state_count(t, collection, owner, &count, &e);
	store_txn_abort(&t);
	store_close(&s);
	cr_assert_eq(ret, 0, "cannot count %s at %s: %s", collection, n->label, e.msg);
	return count;
}

struct cert_find {
	const uint8_t *subject;
	bool found;
};

static int match_cert(const struct store_record *r, void *arg)
{
	struct cert_find *f = arg;

	if (r->key_len == KEY_BYTES && memcmp(r->key, f->subject, KEY_BYTES) == 0) {
		f->found = true;
		return 1;
	}
	return 0;
}

bool net_has_cert(const struct net_node *n, const uint8_t subject[KEY_BYTES])
{
	struct store *s = open_store(n);
	struct store_txn *t = NULL;
	struct cert_find f = {.subject = subject};
	struct err e = {0};
	int ret = store_txn_begin(s, false, &t, &e);

	if (ret == 0)
		ret = store_state_each(t, "cert", NULL, match_cert, &f, &e);
	store_txn_abort(&t);
	store_close(&s);
	cr_assert(ret >= 0, "cannot read certificates at %s: %s", n->label, e.msg);
	return f.found;
}

static void keypair_free(void *p)
{
	struct keypair *kp = p;

	keypair_destroy(&kp);
}

struct keypair *net_node_keypair(const struct net_node *n)
{
	char path[512];
	struct keypair *kp = NULL;
	struct err e = {0};

	snprintf(path, sizeof path, "%s/node.key", n->dir);
	cr_assert_eq(keypair_load(&kp, path, &e), 0, "cannot load %s: %s", path, e.msg);
	return net_own(kp, keypair_free);
}

struct keypair *net_keypair_new(void)
{
	struct keypair *kp = NULL;
	struct err e = {0};

	cr_assert_eq(keypair_generate(&kp, &e), 0, "%s", e.msg);
	return net_own(kp, keypair_free);
}
