// SPDX-License-Identifier: MIT
/* `--net tap=NAME[,mac=MAC][,queues=N][,vhost=auto|on|off]`: the TAP name and MAC rules, checked here so the
 * device (src/devices/virtio_net.c) only ever sees valid values. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "core/config.h"

bool config_tap_name_ok(const char *name, size_t len)
{
	if (len == 0 || len >= CONFIG_IFNAMSIZ || (len == 1 && name[0] == '.') ||
	    (len == 2 && name[0] == '.' && name[1] == '.'))
		return false;
	for (size_t i = 0; i < len; i++) {
		char ch = name[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' ||
		      ch == '-'))
			return false;
	}
	return true;
}

bool config_mac_ok(const uint8_t mac[6])
{
	static const uint8_t zero[6];

	return !(mac[0] & 1) && memcmp(mac, zero, 6);
}

void config_default_mac(const char *tap, uint8_t mac[6])
{
	uint32_t h = 2166136261u;	/* FNV-1a */

	for (const char *p = tap ? tap : ""; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	mac[0] = 0x52;
	mac[1] = 0x54;
	mac[2] = 0x00;
	mac[3] = (uint8_t)(h >> 16);
	mac[4] = (uint8_t)(h >> 8);
	mac[5] = (uint8_t)h;
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Exactly "xx:xx:xx:xx:xx:xx" in @len bytes. */
static bool parse_mac(const char *s, size_t len, uint8_t mac[6])
{
	if (len != 17)
		return false;
	for (unsigned int i = 0; i < 6; i++) {
		int hi = hexval(s[3 * i]), lo = hexval(s[3 * i + 1]);

		if (hi < 0 || lo < 0 || (i < 5 && s[3 * i + 2] != ':'))
			return false;
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

int config_parse_net(const char *arg, char *tap, size_t taplen,
		     uint8_t mac[6], unsigned int *queues,
		     enum net_vhost *vhost, char *err, size_t errlen)
{
	bool have_tap = false, have_mac = false, have_queues = false;
	bool have_vhost = false;
	const char *p = arg;

	if (!arg || !tap || !mac || !queues || !vhost ||
	    taplen < CONFIG_IFNAMSIZ)
		return config_fail(err, errlen, "--net: internal error");
	*queues = 1;
	*vhost = NET_VHOST_AUTO;
	while (*p) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		const char *eq = memchr(p, '=', len);
		size_t klen = eq ? (size_t)(eq - p) : len;
		const char *val = eq ? eq + 1 : NULL;
		size_t vlen = eq ? len - klen - 1 : 0;

		if (klen == 3 && !memcmp(p, "tap", 3) && val) {
			if (have_tap)
				return config_fail(err, errlen,
						   "--net: tap= given twice");
			if (!config_tap_name_ok(val, vlen))
				return config_fail(err, errlen,
						   "--net: invalid TAP name '%.*s' (1-%d of A-Z a-z 0-9 . _ -)",
						   (int)(vlen > 64 ? 64 : vlen),
						   val, CONFIG_IFNAMSIZ - 1);
			memcpy(tap, val, vlen);
			tap[vlen] = '\0';
			have_tap = true;
		} else if (klen == 3 && !memcmp(p, "mac", 3) && val) {
			if (have_mac)
				return config_fail(err, errlen,
						   "--net: mac= given twice");
			if (!parse_mac(val, vlen, mac))
				return config_fail(err, errlen,
						   "--net: invalid MAC '%.*s' (aa:bb:cc:dd:ee:ff)",
						   (int)(vlen > 64 ? 64 : vlen),
						   val);
			if (!config_mac_ok(mac))
				return config_fail(err, errlen,
						   "--net: MAC '%.*s' is multicast or zero",
						   (int)vlen, val);
			have_mac = true;
		} else if (klen == 6 && !memcmp(p, "queues", 6) && val) {
			unsigned int n = 0;
			size_t i;

			if (have_queues)
				return config_fail(err, errlen,
						   "--net: queues= given twice");
			for (i = 0; i < vlen && i < 3 && val[i] >= '0' &&
				    val[i] <= '9'; i++)
				n = n * 10 + (unsigned int)(val[i] - '0');
			if (!vlen || i != vlen || n < 1 ||
			    n > CONFIG_MAX_NET_QUEUES)
				return config_fail(err, errlen,
						   "--net: queues='%.*s' is not a number of queue pairs from 1 to %d",
						   (int)(vlen > 64 ? 64 : vlen),
						   val, CONFIG_MAX_NET_QUEUES);
			*queues = n;
			have_queues = true;
		} else if (klen == 5 && !memcmp(p, "vhost", 5) && val) {
			if (have_vhost)
				return config_fail(err, errlen,
						   "--net: vhost= given twice");
			if (vlen == 4 && !memcmp(val, "auto", 4))
				*vhost = NET_VHOST_AUTO;
			else if (vlen == 2 && !memcmp(val, "on", 2))
				*vhost = NET_VHOST_ON;
			else if (vlen == 3 && !memcmp(val, "off", 3))
				*vhost = NET_VHOST_OFF;
			else
				return config_fail(err, errlen,
						   "--net: vhost='%.*s' (auto, on or off)",
						   (int)(vlen > 64 ? 64 : vlen),
						   val);
			have_vhost = true;
		} else {
			return config_fail(err, errlen,
					   "--net: unknown option '%.*s' (known: tap=NAME, mac=MAC, queues=N, vhost=auto|on|off)",
					   (int)(len > 64 ? 64 : len), p);
		}
		if (!end)
			break;
		p = end + 1;
		if (!*p)
			return config_fail(err, errlen,
					   "--net: trailing ',' in '%s'", arg);
	}
	if (!have_tap)
		return config_fail(err, errlen,
				   "--net: missing tap=NAME in '%s'", arg);
	if (!have_mac)
		config_default_mac(tap, mac);
	return 0;
}
