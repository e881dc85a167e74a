// SPDX-License-Identifier: MIT
/* The control plane's options (--qmp, --name, --uuid): their rules are
 * checked here, so the QMP server (src/qmp/) only sees valid values. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/config.h"

/* One key=value (or bare key) of a comma-separated option value. */
static bool take_key(const char *item, size_t len, const char *key,
		     const char **val, size_t *vlen)
{
	size_t k = strlen(key);

	if (len < k || memcmp(item, key, k))
		return false;
	if (len == k) {
		*val = NULL;
		*vlen = 0;
		return true;
	}
	if (item[k] != '=')
		return false;
	*val = item + k + 1;
	*vlen = len - k - 1;
	return true;
}

static int on_off(const char *val, size_t vlen, bool *out)
{
	if (!val || (vlen == 2 && !memcmp(val, "on", 2))) {
		*out = true;
		return 0;
	}
	if (vlen == 3 && !memcmp(val, "off", 3)) {
		*out = false;
		return 0;
	}
	return -EINVAL;
}

int config_parse_qmp(const char *arg, struct qmp_config *q, char *err,
		     size_t errlen)
{
	const char *p, *comma;
	bool server = false, server_set = false, wait_set = false;
	size_t len;

	memset(q, 0, sizeof(*q));
	q->wait = true;		/* QEMU's default for a server socket */
	if (strncmp(arg, "unix:", 5))
		return config_fail(err, errlen,
				   "--qmp: '%s' is not unix:PATH,server"
				   "[,wait=off] (only UNIX sockets)", arg);
	p = arg + 5;
	comma = strchr(p, ',');
	len = comma ? (size_t)(comma - p) : strlen(p);
	if (!len)
		return config_fail(err, errlen, "--qmp: empty socket path");
	if (len >= sizeof(q->path))
		return config_fail(err, errlen,
				   "--qmp: socket path of %zu bytes; a UNIX "
				   "socket path has at most %zu", len,
				   sizeof(q->path) - 1);
	memcpy(q->path, p, len);
	q->path[len] = '\0';
	while (comma) {
		const char *item = comma + 1, *val;
		size_t ilen, vlen;
		bool b;

		comma = strchr(item, ',');
		ilen = comma ? (size_t)(comma - item) : strlen(item);
		if (take_key(item, ilen, "server", &val, &vlen) && !server_set) {
			if (on_off(val, vlen, &b))
				goto bad;
			server = b;
			server_set = true;
		} else if (take_key(item, ilen, "wait", &val, &vlen) &&
			   !wait_set) {
			if (on_off(val, vlen, &b))
				goto bad;
			q->wait = b;
			wait_set = true;
		} else if (ilen == 6 && !memcmp(item, "nowait", 6) &&
			   !wait_set) {
			q->wait = false;
			wait_set = true;
		} else {
			return config_fail(err, errlen,
					   "--qmp: unknown or repeated key "
					   "'%.*s' (server, wait=on|off)",
					   (int)ilen, item);
		}
		continue;
bad:
		return config_fail(err, errlen,
				   "--qmp: '%.*s': the value is not on or off",
				   (int)ilen, item);
	}
	if (!server)
		return config_fail(err, errlen,
				   "--qmp %s: rivet listens (add ',server'); it "
				   "does not connect to a socket", arg);
	return 0;
}

int config_parse_uuid(const char *arg, char out[CONFIG_UUID_LEN + 1])
{
	static const unsigned int dash[] = { 8, 13, 18, 23 };

	if (strlen(arg) != CONFIG_UUID_LEN)
		return -EINVAL;
	for (unsigned int i = 0; i < CONFIG_UUID_LEN; i++) {
		char ch = arg[i];
		bool want_dash = false;

		for (unsigned int d = 0; d < 4; d++)
			want_dash |= i == dash[d];
		if (want_dash) {
			if (ch != '-')
				return -EINVAL;
		} else if (ch >= 'A' && ch <= 'F') {
			ch = (char)(ch - 'A' + 'a');
		} else if (!((ch >= '0' && ch <= '9') ||
			     (ch >= 'a' && ch <= 'f'))) {
			return -EINVAL;
		}
		out[i] = ch;
	}
	out[CONFIG_UUID_LEN] = '\0';
	return 0;
}

int config_parse_name(const char *arg, char *err, size_t errlen)
{
	size_t len = strlen(arg);

	if (!len || len > CONFIG_MAX_NAME)
		return config_fail(err, errlen,
				   "--name: %zu bytes; a name has 1 to %d",
				   len, CONFIG_MAX_NAME);
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)arg[i] < 0x20 || arg[i] == 0x7f)
			return config_fail(err, errlen,
					   "--name: control character at "
					   "byte %zu", i);
	return 0;
}
