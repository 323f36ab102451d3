/* SPDX-License-Identifier: MIT */
/*
 * The CLI's side of the local control socket (DIR/control.sock): "notify"
 * after a write, so that a running daemon pushes the new entries at once,
 * and "status". Without a daemon both return quickly: notify silently (the
 * daemon also checks the store every second), status with -ENOTCONN.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <zmq.h>

#include "node/sync/sync_internal.h"

static int request(const char *dir, const char *what, int timeout_ms, char **reply, struct err *e)
{
	char path[NODE_PATH_MAX], endpoint[NODE_PATH_MAX + 100]; /* "ipc://" and the path */
	void *ctx = NULL, *sock = NULL;
	struct stat st;
	int linger = 0, ret = -ENOTCONN;
	zmq_msg_t msg;

	snprintf(path, sizeof path, "%s/%s", dir, SYNC_CONTROL_SOCKET);
	if (stat(path, &st) < 0) {
		err_set(e, "no daemon is running for %s", dir);
		return -ENOTCONN;
	}
	snprintf(endpoint, sizeof endpoint, "ipc://%s", path);
	if (!(ctx = zmq_ctx_new()) || !(sock = zmq_socket(ctx, ZMQ_REQ)))
		goto out;
	zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger);
	zmq_setsockopt(sock, ZMQ_RCVTIMEO, &timeout_ms, sizeof timeout_ms);
	zmq_setsockopt(sock, ZMQ_SNDTIMEO, &timeout_ms, sizeof timeout_ms);
	if (zmq_connect(sock, endpoint) != 0 || zmq_send(sock, what, strlen(what), 0) < 0) {
		err_set(e, "no daemon is running for %s", dir);
		goto out;
	}
	zmq_msg_init(&msg);
	if (zmq_msg_recv(&msg, sock, 0) < 0) {
		zmq_msg_close(&msg);
		err_set(e, "no daemon answered on %s (it may have stopped)", path);
		goto out;
	}
	if (reply && (*reply = malloc(zmq_msg_size(&msg) + 1))) {
		memcpy(*reply, zmq_msg_data(&msg), zmq_msg_size(&msg));
		(*reply)[zmq_msg_size(&msg)] = '\0';
	}
	zmq_msg_close(&msg);
	ret = 0;
out:
	if (sock)
		zmq_close(sock);
	if (ctx)
		zmq_ctx_term(ctx);
	return ret;
}

void sync_notify(const char *dir)
{
	struct err ignore = {0};

	(void)request(dir, "notify", 200, NULL, &ignore);
}

int sync_status(const char *dir, int timeout_ms, json_t **out, struct err *e)
{
	char *reply = NULL;
	json_error_t je;
	int ret = request(dir, "status", timeout_ms, &reply, e);

	if (ret < 0)
		return ret;
	*out = reply ? json_loads(reply, 0, &je) : NULL;
	free(reply);
	if (!*out) {
		err_set(e, "the daemon's status does not parse");
		return -EBADMSG;
	}
	return 0;
}
