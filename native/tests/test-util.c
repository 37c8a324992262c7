/*
 * test-util.c: the pure checks every request field passes through
 * (util.c): strict integers, xenstore path syntax and allowlists, file
 * paths, domain names, vdevs, tokens, UTF-8.  These are the helper's
 * trusted base, so each rejection is checked as well as each acceptance.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "tap.h"
#include "util.h"

/* A test name for a string that may hold control or non-ASCII bytes. */
static const char *
vis(const char *s)
{
	static char	buf[4][256];
	static int	n;
	char		*b = buf[n++ % 4], *o = b;

	for (; *s != '\0' && o < b + sizeof(buf[0]) - 5; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c >= 0x7f)
			o += sprintf(o, "\\x%02x", c);
		else
			*o++ = (char)c;
	}
	*o = '\0';
	return b;
}

static void
test_parse_uint(void)
{
	uint64_t	v = 77;

	ok(parse_uint("0", 10, &v) == 0 && v == 0, "parse_uint: 0");
	ok(parse_uint("32751", MAX_DOMID - 1, &v) == 0 && v == 32751,
	    "parse_uint: the largest domid");
	ok(parse_uint("32752", MAX_DOMID - 1, &v) == -ERANGE,
	    "parse_uint: one over the maximum is ERANGE");
	ok(parse_uint("18446744073709551615", UINT64_MAX, &v) == 0 &&
	    v == UINT64_MAX, "parse_uint: UINT64_MAX");
	ok(parse_uint("18446744073709551616", UINT64_MAX, &v) == -ERANGE,
	    "parse_uint: overflow of 64 bits is ERANGE");
	ok(parse_uint("99999999999999999999999", UINT64_MAX, &v) == -ERANGE,
	    "parse_uint: a long overflow is ERANGE");
	v = 77;
	ok(parse_uint("", 10, &v) == -EINVAL && v == 77,
	    "parse_uint: empty is EINVAL and leaves the output alone");
	ok(parse_uint(NULL, 10, &v) == -EINVAL, "parse_uint: NULL");
	ok(parse_uint("007", 10, &v) == -EINVAL,
	    "parse_uint: leading zeros are refused");
	ok(parse_uint("-1", 10, &v) == -EINVAL, "parse_uint: a sign");
	ok(parse_uint("+1", 10, &v) == -EINVAL, "parse_uint: a plus sign");
	ok(parse_uint(" 1", 10, &v) == -EINVAL, "parse_uint: a space before");
	ok(parse_uint("1 ", 10, &v) == -EINVAL, "parse_uint: a space after");
	ok(parse_uint("12abc", 100, &v) == -EINVAL,
	    "parse_uint: trailing junk");
	ok(parse_uint("0x10", 100, &v) == -EINVAL, "parse_uint: hex");
	ok(parse_uint("1e3", 10000, &v) == -EINVAL, "parse_uint: exponent");
}

static void
test_xs_path(void)
{
	static const struct {
		const char	*path;
		int		 good;
	} cases[] = {
		{ "/local/domain/0/name", 1 },
		{ "/", 1 },
		{ "/vm/6a3b1c2d-0000-4000-8000-000000000003", 1 },
		{ "/local/domain/3/device/vbd/5632/state", 1 },
		{ "/a_b-c", 1 },
		{ "", 0 },
		{ "local/domain", 0 },
		{ "/local/../vm", 0 },
		{ "/local/..", 0 },
		{ "/local/a..b", 0 },
		{ "/local//domain", 0 },
		{ "//local", 0 },
		{ "/local/domain/", 0 },
		{ "/local/domain/0/na me", 0 },
		{ "/local/domain/0/name;rm", 0 },
		{ "/local/domain/0/name\n", 0 },
		{ "@introduceDomain", 0 },
		{ "/local/dom\xc3\xa9", 0 },
		{ "/local/domain/0/na.me", 0 },
	};
	char	*p;
	size_t	 i;

	for (i = 0; i < nitems(cases); i++)
		ok((xs_path_check(cases[i].path) == NULL) == cases[i].good,
		    "xs_path_check %s '%s'", cases[i].good ? "accepts" :
		    "refuses", vis(cases[i].path));
	p = malloc(MAX_XS_PATH + 2);
	memset(p, 'a', MAX_XS_PATH + 1);
	p[0] = '/';
	p[MAX_XS_PATH] = '\0';
	ok(xs_path_check(p) == NULL, "xs_path_check accepts MAX_XS_PATH bytes");
	p[MAX_XS_PATH] = 'a';
	p[MAX_XS_PATH + 1] = '\0';
	ok(xs_path_check(p) != NULL, "xs_path_check refuses one byte more");
	free(p);
	ok(strstr(xs_path_check("/a/../b"), "..") != NULL,
	    "the reason for '..' names it");
	ok(strstr(xs_path_check("/a//b"), "//") != NULL,
	    "the reason for '//' names it");
	ok(strstr(xs_path_check("/a/b/"), "trailing") != NULL,
	    "the reason for a trailing '/' names it");
}

static void
test_xs_allowlists(void)
{
	static const struct {
		const char	*path;
		int		 readable, writable;
	} cases[] = {
		{ "/local", 1, 0 },
		{ "/local/domain/3/name", 1, 0 },
		{ "/localx", 0, 0 },
		{ "/vm/x/name", 1, 0 },
		{ "/libxl/3/device/vbd/5632/params", 1, 1 },
		{ "/libxl/3/device/vbd/5632/params/x", 1, 0 },
		{ "/libxl/3/device/vbd/5632/frontend", 1, 0 },
		{ "/tool/xenstored", 1, 0 },
		{ "/xendeck", 1, 1 },
		{ "/xendeck/a/b", 1, 1 },
		{ "/xendeckx", 0, 0 },
		{ "/local/domain/3/control/shutdown", 1, 1 },
		{ "/local/domain/3/control/shutdownx", 1, 0 },
		{ "/local/domain/x/control/shutdown", 1, 0 },
		{ "/local/domain/3/control", 1, 0 },
		{ "/local/domain/0/backend/qdisk/3/5632/params", 1, 1 },
		{ "/local/domain/0/backend/vbd/3/5632/type", 1, 1 },
		{ "/local/domain/0/backend/vbd/3/5632/mode", 1, 0 },
		{ "/local/domain/0/name", 1, 0 },
		{ "/etc/passwd", 0, 0 },
		{ "/", 0, 0 },
	};
	size_t	i;

	for (i = 0; i < nitems(cases); i++) {
		ok(xs_path_readable(cases[i].path) == cases[i].readable,
		    "%s is %sreadable", cases[i].path, cases[i].readable ? "" :
		    "not ");
		ok(xs_path_writable(cases[i].path) == cases[i].writable,
		    "%s is %swritable", cases[i].path, cases[i].writable ? "" :
		    "not ");
	}
}

static void
test_file_path(void)
{
	static const struct {
		const char	*path;
		int		 good;
	} cases[] = {
		{ "/var/lib/isos/tools.iso", 1 },
		{ "/isos/a b.iso", 1 },
		{ "/isos/.hidden.iso", 1 },
		{ "/isos/x..y.iso", 1 },
		{ "", 0 },
		{ "isos/tools.iso", 0 },
		{ "/isos/../etc/shadow", 0 },
		{ "/isos/..", 0 },
		{ "/isos/./x.iso", 0 },
		{ "/isos//x.iso", 0 },
		{ "/isos/", 0 },
		{ "/isos/x\n.iso", 0 },
		{ "/isos/x\x7f.iso", 0 },
	};
	size_t	i;

	for (i = 0; i < nitems(cases); i++)
		ok((file_path_check(cases[i].path) == NULL) == cases[i].good,
		    "file_path_check %s '%s'", cases[i].good ? "accepts" :
		    "refuses", vis(cases[i].path));
}

static void
test_names(void)
{
	static const char *const bad_names[] = {
		"", "vm1;reboot", "$(id)", "`id`", "vm1|cat", "vm1&", "a b",
		"a>b", "a<b", "'x'", "\"x\"", "-x", ".x", "_x", "a\nb",
		"a/b", "a*", "a?", "a\\b", "vm\xc3\xa9",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	};
	size_t	i;

	ok(domain_name_ok("win10"), "domain name win10");
	ok(domain_name_ok("vm-1.test_a"), "domain name with . - _");
	ok(domain_name_ok("Domain-0"), "domain name Domain-0");
	for (i = 0; i < nitems(bad_names); i++)
		ok(!domain_name_ok(bad_names[i]), "domain name '%s' is refused",
		    vis(bad_names[i]));
	ok(domain_ref_ok("3") && domain_ref_ok("32751") &&
	    domain_ref_ok("vm3"), "domain refs: a domid or a name");
	ok(!domain_ref_ok("-3") && !domain_ref_ok("3;id"),
	    "domain refs: no sign, no metacharacters");
	ok(vdev_ok("hdc") && vdev_ok("xvda") && vdev_ok("xvdab1") &&
	    vdev_ok("sda") && vdev_ok("5632"), "vdevs hdc, xvda, xvdab1, sda, "
	    "5632");
	ok(!vdev_ok("hd") && !vdev_ok("xvdA") && !vdev_ok("eth0") &&
	    !vdev_ok("hdc;x") && !vdev_ok("xvdabcd") && !vdev_ok("xvda1234") &&
	    !vdev_ok(""), "bad vdevs are refused");
	ok(token_ok("t1") && token_ok("a.b:c-d_e"), "tokens");
	ok(!token_ok("") && !token_ok("a b") && !token_ok("#introduce") &&
	    !token_ok("u/x"), "tokens: empty, space, '#', '/' refused");
}

static void
test_utf8(void)
{
	static const struct {
		const char	*s;
		int		 good;
		const char	*what;
	} cases[] = {
		{ "plain", 1, "ASCII" },
		{ "\xc3\xa9", 1, "2-byte" },
		{ "\xe2\x82\xac", 1, "3-byte" },
		{ "\xf0\x9f\x98\x80", 1, "4-byte" },
		{ "\xc3\x28", 0, "bad continuation" },
		{ "\xc0\xaf", 0, "overlong 2-byte" },
		{ "\xe0\x80\xaf", 0, "overlong 3-byte" },
		{ "\xed\xa0\x80", 0, "surrogate" },
		{ "\xf4\x90\x80\x80", 0, "above U+10FFFF" },
		{ "\xe2\x82", 0, "truncated" },
		{ "\xff", 0, "0xff" },
	};
	char	*s;
	size_t	 i;

	for (i = 0; i < nitems(cases); i++)
		ok(utf8_valid(cases[i].s, strlen(cases[i].s)) == cases[i].good,
		    "utf8_valid: %s", cases[i].what);
	s = utf8_sanitize("a\xffz", 3);
	ok(strcmp(s, "a\xef\xbf\xbdz") == 0, "utf8_sanitize replaces a bad "
	    "byte with U+FFFD");
	free(s);
	s = utf8_sanitize("a\0b", 3);
	ok(strcmp(s, "a\xef\xbf\xbd" "b") == 0, "utf8_sanitize replaces NUL");
	free(s);
	ok(strcmp(errno_name(ENOENT), "ENOENT") == 0 &&
	    strcmp(errno_name(EAGAIN), "EAGAIN") == 0 &&
	    strcmp(errno_name(123456), "EIO") == 0, "errno_name");
}

int
main(void)
{
	test_parse_uint();
	test_xs_path();
	test_xs_allowlists();
	test_file_path();
	test_names();
	test_utf8();
	return tap_done();
}
