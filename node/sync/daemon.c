/* SPDX-License-Identifier: MIT */
/*
 * strata serve: the daemon's sockets and its one event loop. A ROUTER (CURVE
 * server, ZAP-checked) for children, peers and auditors when the node has a
 * listen endpoint; a DEALER (CURVE client) to the parent when it has one,
 * with ZeroMQ's reconnection and heartbeats and a monitor that says when the
 * handshake succeeded; the ZAP handler; and the control socket for the CLI.
 * One thread: verification and storage of a batch happen in the loop, and a
 * batch is bounded, so every link stays responsive.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/file.h>
#include <unistd.h>

#include <sodium.h>
#include <zmq.h>

#include "node/core/admin.h"
#include "node/sync/sync_internal.h"

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	stopping = sig;
}

/* The next frame of a socket: the one read ahead if there is one. *fd
 * gets the connection's socket, -1 if unknown. */
static int next_frame(struct daemon *d, bool router, uint8_t *rid, size_t *rid_len, char *uid, size_t uid_cap,
		      Strata__Frame **f, int *fd, struct err *e)
{
	struct frame_ahead *a = router ? &d->ahead_router : &d->ahead_dealer;

	*f = NULL;
	*fd = -1;
	if (!a->has) {
		zmq_msg_t msg;
		int ret = sync_frame_recv_raw(router ? d->router : d->dealer, router, rid, rid_len, uid, uid_cap, &msg);

		if (ret < 0)
			return ret;
		*fd = zmq_msg_get(&msg, ZMQ_SRCFD);
		ret = sync_frame_decode(zmq_msg_data(&msg), zmq_msg_size(&msg), f, e);
		zmq_msg_close(&msg);
		return ret;
	}
	a->has = false;
	*fd = a->fd;
	memcpy(rid, a->rid, a->rid_len < SYNC_RID_MAX ? a->rid_len : 0);
	*rid_len = a->rid_len;
	snprintf(uid, uid_cap, "%s", a->uid);
	*f = a->f;
	a->f = NULL;
	*e = a->e;
	return a->ret;
}

static void on_router(struct daemon *d)
{
	for (int budget = 0; budget < 64; budget++) {
		uint8_t rid[SYNC_RID_MAX];
		size_t rid_len = 0;
		char uid[80];
		Strata__Frame *f = NULL;
		struct link *l;
		struct err e = {0};
		int fd, ret = next_frame(d, true, rid, &rid_len, uid, sizeof uid, &f, &fd, &e);

		if (ret == -EAGAIN)
			return;
		if (ret < 0) {
			bool allow;

			if ((l = sync_child_by_rid(d, rid, rid_len)))
				sync_link_heard(l); /* garbage, but not silence */
			d->frame_uid = uid;
			allow = l ? sync_link_refusal_allow(l, sync_clock_ms()) : sync_frame_refusal_allow(d, sync_clock_ms());
			d->frame_uid = NULL;
			if (!allow)
				continue;
			sync_log(d, "refused a message from %s: %s", l && sync_link_name(l)[0] ? sync_link_name(l) : "a connection", e.msg);
			/* not counted as the link's refusal: the frame was not its */
			sync_conn_send_error(d, rid, rid_len, EBADMSG, e.msg);
			continue;
		}
		sync_on_child_frame(d, rid, rid_len, uid, f);
		if (fd >= 0 && (l = sync_child_by_rid(d, rid, rid_len)))
			l->fd = fd;
		strata__frame__free_unpacked(f, NULL);
	}
}

static void on_dealer(struct daemon *d)
{
	for (int budget = 0; budget < 64; budget++) {
		uint8_t rid[SYNC_RID_MAX];
		size_t rid_len = 0;
		char uid[80];
		Strata__Frame *f = NULL;
		struct err e = {0};
		int fd, ret = next_frame(d, false, rid, &rid_len, uid, sizeof uid, &f, &fd, &e);

		if (ret == -EAGAIN)
			return;
		if (ret < 0) {
			if (sync_link_refusal_allow(d->parent, sync_clock_ms()))
				sync_log(d, "refused a message from the parent: %s", e.msg);
			continue;
		}
		sync_link_on_frame(d->parent, f);
		strata__frame__free_unpacked(f, NULL);
	}
}

static void on_control(struct daemon *d)
{
	char req[32];
	int n = zmq_recv(d->control, req, sizeof req - 1, ZMQ_DONTWAIT);

	if (n < 0)
		return;
	req[n < (int)sizeof req ? n : (int)sizeof req - 1] = '\0';
	if (strcmp(req, "status") == 0) {
		json_t *j = sync_daemon_status(d);
		char *s = json_dumps(j, JSON_COMPACT);

		zmq_send(d->control, s ? s : "{}", s ? strlen(s) : 2, 0);
		free(s);
		json_decref(j);
	} else if (strcmp(req, "notify") == 0) {
		zmq_send(d->control, "ok", 2, 0);
		sync_ckpt_changed(d); /* e.g. a bundle brought checkpoints */
		sync_due(d); /* e.g. a bundle brought a release */
		sync_pump_all(d);
	} else {
		zmq_send(d->control, "unknown request", 15, 0);
	}
}

static void send_ping(struct link *l)
{
	Strata__Frame f = STRATA__FRAME__INIT;
	Strata__Ping p = STRATA__PING__INIT;

	p.time_ms = node_now_ms();
	f.msg_case = STRATA__FRAME__MSG_PING;
	f.ping = &p;
	sync_link_send(l, &f);
}

static void sweep(struct daemon *d)
{
	uint64_t now = sync_clock_ms(), wall = node_now_ms();

	sync_refusal_flush(d, now);
	if (d->parent && sync_link_up(d->parent)) {
		if (now - d->parent->rx_at > SYNC_DEAD_MS) {
			sync_log(d, "parent %s silent for %d s; waiting for it", sync_link_name(d->parent), SYNC_DEAD_MS / 1000);
			snprintf(d->parent->last_error, sizeof d->parent->last_error,
				 "silent for %d s: waiting for it to come back", SYNC_DEAD_MS / 1000);
			d->parent->last_error_ms = wall;
			sync_link_reset(d->parent);
			d->parent->tx_at = now;
		} else if (now - d->parent->tx_at > SYNC_PING_MS) {
			send_ping(d->parent);
		}
	} else if (d->parent && now - d->parent->tx_at > SYNC_PING_MS &&
		   now - d->parent->hello_at > (d->parent->refused_hello ? SYNC_REFUSED_RETRY_MS : SYNC_PING_MS)) {
		/* Not replicating, yet ZeroMQ may still hold the connection: a
		 * loop that stalled past SYNC_DEAD_MS (a huge batch, a loaded
		 * machine) reset the link while ZeroMQ's own heartbeats kept it,
		 * so no reconnection will come to say hello again. Say it now,
		 * and again while unanswered; with ZMQ_IMMEDIATE it goes nowhere
		 * when there is no connection. */
		sync_link_send_hello(d->parent);
		d->parent->tx_at = now;
	}
	for (size_t i = 0; i < d->nchildren;) {
		struct link *l = d->children[i];

		if (now - l->rx_at > SYNC_DEAD_MS) {
			sync_log(d, "link from %s is down (silent for %d s)", sync_link_name(l), SYNC_DEAD_MS / 1000);
			snprintf(l->last_error, sizeof l->last_error, "silent for %d s: the link was dropped",
				 SYNC_DEAD_MS / 1000);
			l->last_error_ms = wall;
			sync_child_remove(d, i, NULL);
			continue;
		}
		if (now - l->tx_at > SYNC_PING_MS)
			send_ping(l);
		i++;
	}
	if (now - d->last_sweep_ms >= 1000) {
		d->last_sweep_ms = now;
		sync_drop_revoked(d); /* a revocation written by the CLI or received */
		sync_pump_all(d); /* entries written by the CLI without a notify, stalls that ended */
		sync_ckpt_sweep(d); /* own checkpoints due, notes other processes stored */
		/* an erase whose scrub a reader held off (then every 5 s), one the
		 * CLI applied, or one a process that died left due */
		if (now - d->last_scrub_ms >= (d->scrub_held ? 5000 : 1000))
			sync_scrub(d);
		sync_linkstate_flush(d, false); /* what status shows when the daemon is gone */
	}
}

/* The options the ROUTER and the DEALER share: frame size, queue bounds,
 * heartbeats, no linger. */
static void socket_common(void *sock)
{
	int hwm = 100000, ivl = 2000, timeout = 6000, linger = 0;
	int64_t maxmsg = SYNC_FRAME_MAX;

	zmq_setsockopt(sock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
	zmq_setsockopt(sock, ZMQ_SNDHWM, &hwm, sizeof hwm);
	zmq_setsockopt(sock, ZMQ_RCVHWM, &hwm, sizeof hwm);
	zmq_setsockopt(sock, ZMQ_HEARTBEAT_IVL, &ivl, sizeof ivl);
	zmq_setsockopt(sock, ZMQ_HEARTBEAT_TIMEOUT, &timeout, sizeof timeout);
	zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger);
}

/* The ROUTER on [node] listen, a CURVE server checked by ZAP, and its monitor. */
static int setup_listener(struct daemon *d, struct err *e)
{
	const struct node_config *c = node_config(d->n);
	int one = 1;

	if (!(d->router = zmq_socket(d->ctx, ZMQ_ROUTER)))
		return -EIO;
	zmq_setsockopt(d->router, ZMQ_CURVE_SERVER, &one, sizeof one);
	zmq_setsockopt(d->router, ZMQ_CURVE_SECRETKEY, d->curve_sk, KEY_BYTES);
	zmq_setsockopt(d->router, ZMQ_ZAP_DOMAIN, "strata", 6);
	zmq_setsockopt(d->router, ZMQ_ROUTER_MANDATORY, &one, sizeof one);
	socket_common(d->router);
	if (zmq_bind(d->router, c->listen) != 0) {
		err_set(e, "cannot listen on %s: %s", c->listen, zmq_strerror(errno));
		return -EADDRINUSE;
	}
	/* The transport closes a connection that breaks its rules (a
	 * message over SYNC_FRAME_MAX) without telling the socket why;
	 * its monitor at least says that it did. */
	if (zmq_socket_monitor(d->router, "inproc://listener-monitor", ZMQ_EVENT_DISCONNECTED) != 0 ||
	    !(d->router_monitor = zmq_socket(d->ctx, ZMQ_PAIR)) ||
	    zmq_connect(d->router_monitor, "inproc://listener-monitor") != 0) {
		err_set(e, "cannot monitor the listener: %s", zmq_strerror(errno));
		return -EIO;
	}
	return 0;
}

/* The DEALER to [parent] endpoint, a CURVE client, its monitor, and the
 * parent link. */
static int setup_parent(struct daemon *d, struct err *e)
{
	const struct node_config *c = node_config(d->n);
	int one = 1, rc_ivl = 100, rc_max = 5000;
	uint8_t server[KEY_BYTES];

	if (key_to_curve(server, c->parent_key) < 0) {
		err_set(e, "the parent key in %s is not a valid key", NODE_CONF_FILE);
		return -EINVAL;
	}
	if (!(d->dealer = zmq_socket(d->ctx, ZMQ_DEALER)))
		return -EIO;
	zmq_setsockopt(d->dealer, ZMQ_CURVE_SERVERKEY, server, KEY_BYTES);
	zmq_setsockopt(d->dealer, ZMQ_CURVE_PUBLICKEY, d->curve_pk, KEY_BYTES);
	zmq_setsockopt(d->dealer, ZMQ_CURVE_SECRETKEY, d->curve_sk, KEY_BYTES);
	zmq_setsockopt(d->dealer, ZMQ_IMMEDIATE, &one, sizeof one);
	zmq_setsockopt(d->dealer, ZMQ_RECONNECT_IVL, &rc_ivl, sizeof rc_ivl);
	zmq_setsockopt(d->dealer, ZMQ_RECONNECT_IVL_MAX, &rc_max, sizeof rc_max);
	socket_common(d->dealer);
	if (zmq_socket_monitor(d->dealer, "inproc://parent-monitor",
			       ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) != 0 ||
	    !(d->monitor = zmq_socket(d->ctx, ZMQ_PAIR)) || zmq_connect(d->monitor, "inproc://parent-monitor") != 0) {
		err_set(e, "cannot monitor the parent link: %s", zmq_strerror(errno));
		return -EIO;
	}
	if (!(d->parent = sync_link_new(d, LINK_PARENT)))
		return -ENOMEM;
	memcpy(d->parent->key, c->parent_key, KEY_BYTES);
	d->parent->role = c->parent_is_peer ? STRATA__ROLE__ROLE_PEER : STRATA__ROLE__ROLE_CHILD;
	snprintf(d->parent->name, sizeof d->parent->name, "%.200s", c->parent_endpoint);
	if (zmq_connect(d->dealer, c->parent_endpoint) != 0) {
		err_set(e, "cannot connect to %s: %s", c->parent_endpoint, zmq_strerror(errno));
		return -EINVAL;
	}
	return 0;
}

static int setup_sockets(struct daemon *d, struct err *e)
{
	const struct node_config *c = node_config(d->n);
	int linger = 0, ret;
	char endpoint[sizeof d->control_path + 16];

	/* The ZAP handler must exist before any CURVE server socket accepts. */
	if (!(d->zap = zmq_socket(d->ctx, ZMQ_REP)) || zmq_bind(d->zap, "inproc://zeromq.zap.01") != 0) {
		err_set(e, "cannot start the ZAP handler: %s", zmq_strerror(errno));
		return -EIO;
	}
	if (c->listen[0] && (ret = setup_listener(d, e)) < 0)
		return ret;
	if (c->has_parent && (ret = setup_parent(d, e)) < 0)
		return ret;
	snprintf(d->control_path, sizeof d->control_path, "%s/%s", node_dir(d->n), SYNC_CONTROL_SOCKET);
	snprintf(endpoint, sizeof endpoint, "ipc://%s", d->control_path);
	unlink(d->control_path); /* a stale socket of a daemon that died: the lock says none runs */
	if (!(d->control = zmq_socket(d->ctx, ZMQ_REP)) || zmq_bind(d->control, endpoint) != 0) {
		err_set(e, "cannot create the control socket %s: %s", d->control_path, zmq_strerror(errno));
		return -EIO;
	}
	if (chmod(d->control_path, 0600) < 0) { /* bind() took its mode from the umask */
		err_set(e, "cannot set mode 0600 on the control socket %s: %s", d->control_path, strerror(errno));
		return -EIO;
	}
	zmq_setsockopt(d->control, ZMQ_LINGER, &linger, sizeof linger);
	zmq_setsockopt(d->zap, ZMQ_LINGER, &linger, sizeof linger);
	return 0;
}

/* One daemon per node directory: an exclusive lock on DIR/serve.lock. */
static int lock_dir(struct node *n, int *fd, struct err *e)
{
	char path[NODE_PATH_MAX];

	snprintf(path, sizeof path, "%s/" NODE_SERVE_LOCK_FILE, node_dir(n));
	if ((*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0) {
		err_set(e, "cannot open %s: %s", path, strerror(errno));
		return -errno;
	}
	if (flock(*fd, LOCK_EX | LOCK_NB) < 0) {
		err_set(e, "another strata serve is already running for %s", node_dir(n));
		close(*fd);
		*fd = -1;
		return -EBUSY;
	}
	return 0;
}

/* The write fence as the daemon starts (node_fence_serve_start), logged;
 * when writes are allowed, the companion erases a lift without the key
 * left owed. */
static void fence_at_start(struct daemon *d)
{
	struct node_fence f;
	struct err fe = {0};

	if (node_fence_serve_start(d->n, d->o->alone, &f, &fe) < 0)
		sync_log(d, "cannot read the write fence: %s", fe.msg);
	else if (f.set)
		sync_log(d, "write fence: %s; writes wait until the links confirm the heads of this node's "
			     "own feeds", node_fence_why(f.reason));
	else if (d->o->alone)
		sync_log(d, "--alone: writes allowed without asking any link for this node's own heads");
	if (!f.set) { /* may sign: a lift without the key (fence --lift) left them owed */
		size_t erased = 0;

		if (node_erase_owed(d->n, &erased, &fe) < 0)
			sync_log(d, "companion erases not written: %s", fe.msg);
		else if (erased)
			sync_log(d, "erased again %zu companion record(s) of records this node had erased", erased);
	}
}

/* The loop: poll every socket, dispatch what arrived, run the timers
 * (sweep), until a signal. 0, or -EIO when polling fails. */
static int run(struct daemon *d, struct err *e)
{
	int ret = 0;

	while (!stopping) {
		zmq_pollitem_t items[6];
		int ni = 0, zi = -1, ri = -1, rmi = -1, di = -1, mi = -1, ci;

		items[zi = ni++] = (zmq_pollitem_t){d->zap, 0, ZMQ_POLLIN, 0};
		if (d->router) {
			items[ri = ni++] = (zmq_pollitem_t){d->router, 0, ZMQ_POLLIN, 0};
			items[rmi = ni++] = (zmq_pollitem_t){d->router_monitor, 0, ZMQ_POLLIN, 0};
		}
		if (d->dealer) {
			items[di = ni++] = (zmq_pollitem_t){d->dealer, 0, ZMQ_POLLIN, 0};
			items[mi = ni++] = (zmq_pollitem_t){d->monitor, 0, ZMQ_POLLIN, 0};
		}
		items[ci = ni++] = (zmq_pollitem_t){d->control, 0, ZMQ_POLLIN, 0};
		/* a frame read ahead is dispatched without waiting */
		if (zmq_poll(items, ni, d->ahead_router.has || d->ahead_dealer.has ? 0 : 250) < 0) {
			if (errno == EINTR)
				continue;
			err_set(e, "polling failed: %s", zmq_strerror(errno));
			ret = -EIO;
			break;
		}
		if (items[zi].revents & ZMQ_POLLIN)
			sync_zap_handle(d);
		if (mi >= 0 && items[mi].revents & ZMQ_POLLIN)
			sync_on_monitor(d);
		if (ri >= 0 && (items[ri].revents & ZMQ_POLLIN || d->ahead_router.has))
			on_router(d);
		if (rmi >= 0 && items[rmi].revents & ZMQ_POLLIN)
			sync_on_router_monitor(d);
		if (di >= 0 && (items[di].revents & ZMQ_POLLIN || d->ahead_dealer.has))
			on_dealer(d);
		sync_ckpt_flush(d); /* the notes those frames brought, in one transaction */
		if (items[ci].revents & ZMQ_POLLIN)
			on_control(d);
		sweep(d);
	}
	return ret;
}

/* Frees what sync_serve made: the links' state written (every link down),
 * the sockets closed, the keys wiped. */
static void daemon_close(struct daemon *d)
{
	sync_linkstate_flush(d, true);
	sync_linkstate_free(d);
	if (d->control_path[0])
		unlink(d->control_path);
	if (d->dealer)
		zmq_socket_monitor(d->dealer, NULL, 0);
	if (d->router_monitor)
		zmq_socket_monitor(d->router, NULL, 0);
	for (void **s = (void *[]){d->monitor, d->router_monitor, d->dealer, d->router, d->control, d->zap},
		  **end = s + 6;
	     s < end; s++)
		if (*s)
			zmq_close(*s);
	if (d->ctx)
		zmq_ctx_term(d->ctx);
	sync_link_free(&d->parent);
	sync_drop_children(d);
	sync_wire_free(d);
	sync_ckpt_free(d);
	sodium_free(d->curve_sk);
}

int sync_serve(struct node *n, const struct sync_serve_opts *o, struct err *e)
{
	struct daemon d = {.n = n, .o = o};
	struct sigaction sa = {.sa_handler = on_signal};
	char hex[KEY_HEX];
	int ret, lock_fd = -1;

	if ((ret = lock_dir(n, &lock_fd, e)) < 0)
		return ret;
	d.started_ms = node_now_ms();
	node_on_store_grown(n, sync_log_line, &d); /* the map's growths in this log */
	node_set_fence_wait(n, 0); /* the daemon lifts the fence: it never waits for it */
	if (!(d.curve_sk = sodium_malloc(KEY_BYTES)) || node_curve_keys(n, d.curve_pk, d.curve_sk) < 0) {
		err_set(e, "cannot derive the node's CURVE keys");
		ret = -EIO;
		goto out;
	}
	if (!node_config(n)->listen[0] && !node_config(n)->has_parent) {
		err_set(e, "nothing to serve: %s/%s names neither a listen endpoint nor a parent", node_dir(n),
			NODE_CONF_FILE);
		ret = -EINVAL;
		goto out;
	}
	if (!(d.ctx = zmq_ctx_new())) {
		err_set(e, "cannot create a ZeroMQ context");
		ret = -EIO;
		goto out;
	}
	if ((ret = setup_sockets(&d, e)) < 0)
		goto out;
	sync_linkstate_load(&d);
	sodium_memzero(d.curve_sk, KEY_BYTES); /* the sockets hold their own copies */
	stopping = 0;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	fence_at_start(&d); /* before "ready": a write that waits for ready sees the fence as it is */
	key_hex(hex, node_id(n));
	sync_log(&d, "ready: key %s%s%s%s%s", hex, node_config(n)->listen[0] ? ", listening on " : "",
		 node_config(n)->listen, node_config(n)->has_parent ? ", parent at " : "", node_config(n)->parent_endpoint);
	sync_due(&d); /* transfer steps due since the daemon last ran */
	ret = run(&d, e);
	if (stopping)
		sync_log(&d, "stopping on %s", stopping == SIGTERM ? "SIGTERM" : "SIGINT");
out:
	daemon_close(&d);
	node_on_store_grown(n, NULL, NULL);
	if (lock_fd >= 0)
		close(lock_fd);
	return ret;
}
