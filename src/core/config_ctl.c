// SPDX-License-Identifier: MIT
/* The control plane's options (--qmp, --serial, --name, --uuid): their
 * rules are checked here, so the monitor's servers only see valid values. */
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

/* `unix:PATH,server[,wait=on|off]` (also server=on, nowait) of option
 * @opt: the path into @path (CONFIG_SUN_PATH bytes), the wait flag (QEMU's
 * default: on) into @wait. */
static int parse_unix_server(const char *opt, const char *arg, char *path,
			     bool *wait, char *err, size_t errlen)
{
	const char *p, *comma;
	bool server = false, server_set = false, wait_set = false;
	size_t len;

	*wait = true;
	if (strncmp(arg, "unix:", 5))
		return config_fail(err, errlen,
				   "%s: '%s' is not unix:PATH,server"
				   "[,wait=off] (only UNIX sockets)", opt, arg);
	p = arg + 5;
	comma = strchr(p, ',');
	len = comma ? (size_t)(comma - p) : strlen(p);
	if (!len)
		return config_fail(err, errlen, "%s: empty socket path", opt);
	if (len >= CONFIG_SUN_PATH)
		return config_fail(err, errlen,
				   "%s: socket path of %zu bytes; a UNIX "
				   "socket path has at most %d", opt, len,
				   CONFIG_SUN_PATH - 1);
	memcpy(path, p, len);
	path[len] = '\0';
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
			*wait = b;
			wait_set = true;
		} else if (ilen == 6 && !memcmp(item, "nowait", 6) &&
			   !wait_set) {
			*wait = false;
			wait_set = true;
		} else {
			return config_fail(err, errlen,
					   "%s: unknown or repeated key "
					   "'%.*s' (server, wait=on|off)", opt,
					   (int)ilen, item);
		}
		continue;
bad:
		return config_fail(err, errlen,
				   "%s: '%.*s': the value is not on or off",
				   opt, (int)ilen, item);
	}
	if (!server)
		return config_fail(err, errlen,
				   "%s %s: rivet listens (add ',server'); it "
				   "does not connect to a socket", opt, arg);
	return 0;
}

int config_parse_qmp(const char *arg, struct qmp_config *q, char *err,
		     size_t errlen)
{
	memset(q, 0, sizeof(*q));
	return parse_unix_server("--qmp", arg, q->path, &q->wait, err, errlen);
}

int config_parse_serial(const char *arg, struct serial_config *s, char *err,
			size_t errlen)
{
	memset(s, 0, sizeof(*s));
	if (!strcmp(arg, "stdio")) {
		s->kind = SERIAL_STDIO;
		return 0;
	}
	if (!strcmp(arg, "pty")) {
		s->kind = SERIAL_PTY;
		return 0;
	}
	if (!strcmp(arg, "null") || !strcmp(arg, "none")) {
		s->kind = SERIAL_NULL;
		return 0;
	}
	if (strncmp(arg, "unix:", 5))
		return config_fail(err, errlen,
				   "--serial: '%s' is not stdio, pty, null or "
				   "unix:PATH,server[,wait=off]", arg);
	s->kind = SERIAL_UNIX;
	return parse_unix_server("--serial", arg, s->path, &s->wait, err,
				 errlen);
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
