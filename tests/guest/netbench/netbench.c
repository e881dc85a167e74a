// SPDX-License-Identifier: MIT
/*
 * netbench: TCP stream and request/response figures over virtio-net, with
 * every byte checked.  One static binary for both ends: the guest runs the
 * client (tests/guest/tests/netbench), the emulated host the server
 * (/guest/netbench, see tools/rvhost).
 *
 *   netbench server [-p PORT] [-n CONNECTIONS]
 *   netbench client HOST PORT tx|rx SECONDS
 *   netbench client HOST PORT rr COUNT
 *
 * A connection starts with the client's 9-byte request: a mode byte ('T',
 * 'R', 'P') and a little-endian u64 (seconds for R, a count for P).
 *  - T (tx, guest -> host): the client sends the pattern for SECONDS, then
 *    shuts its side down; the server checks every byte and answers with a
 *    u64 byte count and a verdict byte (1: all bytes matched).
 *  - R (rx, host -> guest): the server sends the pattern for SECONDS and
 *    closes; the client checks every byte.
 *  - P (rr): COUNT rounds of one byte each way; the client times each.
 * The pattern: byte i of a stream is byte (i % 8) of (i / 8) * K (K odd),
 * so a lost, repeated or reordered segment shows.
 *
 * Output (client), one line:
 *   NETBENCH mode=tx|rx bytes=N secs=S mbs=M verified=0|1
 *   NETBENCH mode=rr n=N mean_us=A p50_us=B p99_us=C
 * The server prints a NETBENCH-SERVER line per connection.  Exit status 0
 * when everything was verified.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define K	0x9e3779b97f4a7c15ULL
#define CHUNK	(128 * 1024)

static uint8_t pat(uint64_t i)
{
	return (uint8_t)(((i / 8) * K) >> (8 * (i % 8)));
}

/* A word at a time where the stream offset is 8-aligned (little-endian
 * hosts: the pattern's bytes are the word's, lowest first). */
static void fill(uint8_t *b, size_t n, uint64_t off)
{
	size_t i = 0;

	for (; i < n && (off + i) % 8; i++)
		b[i] = pat(off + i);
	for (; i + 8 <= n; i += 8) {
		uint64_t w = ((off + i) / 8) * K;

		memcpy(b + i, &w, 8);
	}
	for (; i < n; i++)
		b[i] = pat(off + i);
}

static int check(const uint8_t *b, size_t n, uint64_t off)
{
	size_t i = 0;

	for (; i < n && (off + i) % 8; i++)
		if (b[i] != pat(off + i))
			return 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t w = ((off + i) / 8) * K;

		if (memcmp(b + i, &w, 8))
			return 0;
	}
	for (; i < n; i++)
		if (b[i] != pat(off + i))
			return 0;
	return 1;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int full(int fd, void *p, size_t n, int wr)
{
	uint8_t *b = p;

	while (n) {
		ssize_t r = wr ? write(fd, b, n) : read(fd, b, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		b += r;
		n -= (size_t)r;
	}
	return 0;
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static int nodelay(int fd)
{
	int one = 1;

	return setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* ---- server ---------------------------------------------------------------- */

static void serve(int c, uint8_t *buf)
{
	uint8_t req[9], ans[9];
	uint64_t bytes = 0, arg;
	int ok = 1;

	if (full(c, req, sizeof(req), 0)) {
		printf("NETBENCH-SERVER bad request\n");
		return;
	}
	arg = get64(req + 1);
	switch (req[0]) {
	case 'T':
		for (;;) {
			ssize_t r = read(c, buf, CHUNK);

			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				break;
			ok &= check(buf, (size_t)r, bytes);
			bytes += (uint64_t)r;
		}
		put64(ans, bytes);
		ans[8] = (uint8_t)ok;
		full(c, ans, sizeof(ans), 1);
		printf("NETBENCH-SERVER mode=tx bytes=%llu verified=%d\n",
		       (unsigned long long)bytes, ok);
		break;
	case 'R': {
		double end = now() + (double)arg;

		while (now() < end) {
			fill(buf, CHUNK, bytes);
			if (full(c, buf, CHUNK, 1))
				break;
			bytes += CHUNK;
		}
		printf("NETBENCH-SERVER mode=rx bytes=%llu\n",
		       (unsigned long long)bytes);
		break;
	}
	case 'P':
		nodelay(c);
		for (uint64_t i = 0; i < arg; i++)
			if (full(c, buf, 1, 0) || full(c, buf, 1, 1))
				break;
		printf("NETBENCH-SERVER mode=rr n=%llu\n", (unsigned long long)arg);
		break;
	default:
		printf("NETBENCH-SERVER unknown mode %#x\n", req[0]);
	}
	fflush(stdout);
}

static int server(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	int port = 5201, count = -1, one = 1, s, opt;
	uint8_t *buf = malloc(CHUNK);

	while ((opt = getopt(argc, argv, "p:n:")) != -1) {
		if (opt == 'p')
			port = atoi(optarg);
		else if (opt == 'n')
			count = atoi(optarg);
		else
			return 2;
	}
	s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (!buf || s < 0)
		return 1;
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	a.sin_port = htons((uint16_t)port);
	if (bind(s, (struct sockaddr *)&a, sizeof(a)) || listen(s, 4)) {
		perror("netbench: server");
		return 1;
	}
	printf("NETBENCH-SERVER listening on %d\n", port);
	fflush(stdout);
	for (int n = 0; count < 0 || n < count; n++) {
		int c = accept(s, NULL, NULL);

		if (c < 0) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		serve(c, buf);
		close(c);
	}
	return 0;
}

/* ---- client ---------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int client(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	uint8_t req[9], *buf = malloc(CHUNK);
	const char *mode;
	uint64_t arg, bytes = 0;
	double t0, t1;
	int s, ok = 1;

	if (argc != 5 || !buf)
		return 2;
	mode = argv[3];
	arg = strtoull(argv[4], NULL, 10);
	a.sin_port = htons((uint16_t)atoi(argv[2]));
	if (inet_pton(AF_INET, argv[1], &a.sin_addr) != 1)
		return 2;
	s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof(a))) {
		perror("netbench: connect");
		return 1;
	}
	req[0] = !strcmp(mode, "tx") ? 'T' : !strcmp(mode, "rx") ? 'R' :
		 !strcmp(mode, "rr") ? 'P' : 0;
	if (!req[0])
		return 2;
	put64(req + 1, arg);
	if (full(s, req, sizeof(req), 1))
		return 1;
	t0 = now();
	if (req[0] == 'T') {
		uint8_t ans[9];

		while (now() - t0 < (double)arg) {
			fill(buf, CHUNK, bytes);
			if (full(s, buf, CHUNK, 1))
				return 1;
			bytes += CHUNK;
		}
		shutdown(s, SHUT_WR);
		if (full(s, ans, sizeof(ans), 0))
			return 1;
		t1 = now();
		ok = ans[8] == 1 && get64(ans) == bytes;
	} else if (req[0] == 'R') {
		for (;;) {
			ssize_t r = read(s, buf, CHUNK);

			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0)
				return 1;
			if (r == 0)
				break;
			ok &= check(buf, (size_t)r, bytes);
			bytes += (uint64_t)r;
		}
		t1 = now();
	} else {
		double *lat = calloc(arg ? arg : 1, sizeof(double)), sum = 0;

		if (!lat)
			return 1;
		nodelay(s);
		for (uint64_t i = 0; i < arg; i++) {
			double t = now();

			buf[0] = (uint8_t)i;
			if (full(s, buf, 1, 1) || full(s, buf, 1, 0))
				return 1;
			lat[i] = (now() - t) * 1e6;
			sum += lat[i];
		}
		qsort(lat, arg, sizeof(double), cmp_double);
		printf("NETBENCH mode=rr n=%llu mean_us=%.1f p50_us=%.1f p99_us=%.1f\n",
		       (unsigned long long)arg, arg ? sum / arg : 0,
		       arg ? lat[arg / 2] : 0, arg ? lat[arg * 99 / 100] : 0);
		return 0;
	}
	printf("NETBENCH mode=%s bytes=%llu secs=%.3f mbs=%.2f verified=%d\n",
	       mode, (unsigned long long)bytes, t1 - t0,
	       bytes / 1e6 / (t1 - t0 > 0 ? t1 - t0 : 1), ok);
	return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	if (argc >= 2 && !strcmp(argv[1], "server"))
		return server(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "client"))
		return client(argc - 1, argv + 1);
	fprintf(stderr, "usage: netbench server [-p PORT] [-n CONNECTIONS]\n"
			"       netbench client HOST PORT tx|rx SECONDS\n"
			"       netbench client HOST PORT rr COUNT\n");
	return 2;
}
