/*
 * test-dominfo.c: parsing `xl list -v` and plain `xl list` output into
 * domain states (running, blocked, paused, shutdown with its reason,
 * dying), including names with spaces, the reason code column, and
 * lines that must be skipped.
 */
#include <stdio.h>
#include <string.h>

#include "ops.h"
#include "tap.h"

static const char verbose[] =
    "Name                                        ID   Mem VCPUs\tState\t"
    "Time(s)   UUID                            Reason-Code\tSecurity Label\n"
    "Domain-0                                     0  4096     4     r-----"
    "     123.4 00000000-0000-0000-0000-000000000000        -          -\n"
    "win10                                        3  4096     2     -b----"
    "      12.0 6a3b1c2d-0000-4000-8000-000000000003        -          -\n"
    "crashy                                       4   512     1     ---sc-"
    "       1.0 6a3b1c2d-0000-4000-8000-000000000004        3          -\n"
    "my vm                                        5   512     1     --p---"
    "       1.0 6a3b1c2d-0000-4000-8000-000000000005        -          -\n"
    "rebooter                                     6   512     1     ---sr-"
    "       1.0 6a3b1c2d-0000-4000-8000-000000000006        1          -\n"
    "soft                                         7   512     1     ---s--"
    "       1.0 6a3b1c2d-0000-4000-8000-000000000007        5          -\n"
    "(null)                                       8     0     0     -----d"
    "       1.0 not-a-uuid                              -          -\n"
    "garbage line\n"
    "bad-state                                    9   512     1     xxxxxx"
    "       1.0 6a3b1c2d-0000-4000-8000-000000000009        -          -\n";

static const char plain[] =
    "Name                                        ID   Mem VCPUs\tState\t"
    "Time(s)\n"
    "Domain-0                                     0  4096     4     r-----"
    "     123.4\n"
    "win10                                        3  4096     2     ---sw-"
    "      12.0\n";

static json_t *
dom(json_t *list, json_int_t domid)
{
	size_t	 i;
	json_t	*d;

	json_array_foreach(list, i, d)
		if (json_integer_value(json_object_get(d, "domid")) == domid)
			return d;
	return NULL;
}

static const char *
str(json_t *d, const char *k)
{
	return json_string_value(json_object_get(d, k)) ?: "";
}

static int
flag(json_t *d, const char *k)
{
	return json_is_true(json_object_get(d, k));
}

int
main(void)
{
	json_t	*l, *d;

	l = dominfo_parse(verbose, strlen(verbose), 1);
	ok(json_array_size(l) == 7, "seven domain lines, header and junk "
	    "skipped (%zu)", json_array_size(l));
	d = dom(l, 0);
	ok(d != NULL && strcmp(str(d, "name"), "Domain-0") == 0 &&
	    flag(d, "running") && !flag(d, "blocked") && !flag(d, "paused") &&
	    !flag(d, "shutdown") && !flag(d, "dying") &&
	    json_object_get(d, "reason") == NULL, "Domain-0 running");
	d = dom(l, 3);
	ok(d != NULL && flag(d, "blocked") && !flag(d, "running") &&
	    strcmp(str(d, "uuid"), "6a3b1c2d-0000-4000-8000-000000000003") == 0,
	    "win10 blocked, with its uuid");
	d = dom(l, 4);
	ok(d != NULL && flag(d, "shutdown") && strcmp(str(d, "reason"),
	    "crash") == 0, "crashy: shutdown, reason code 3 is crash");
	d = dom(l, 5);
	ok(d != NULL && strcmp(str(d, "name"), "my vm") == 0 &&
	    flag(d, "paused"), "a name with a space; paused");
	d = dom(l, 6);
	ok(d != NULL && strcmp(str(d, "reason"), "reboot") == 0,
	    "reason code 1 is reboot");
	d = dom(l, 7);
	ok(d != NULL && strcmp(str(d, "reason"), "soft_reset") == 0,
	    "reason code 5 is soft_reset");
	d = dom(l, 8);
	ok(d != NULL && flag(d, "dying") && json_object_get(d, "uuid") ==
	    NULL, "a dying domain; a malformed uuid is left out");
	ok(dom(l, 9) == NULL, "a line with a bad state column is skipped");
	json_decref(l);

	l = dominfo_parse(plain, strlen(plain), 0);
	d = dom(l, 3);
	ok(json_array_size(l) == 2 && d != NULL && flag(d, "shutdown") &&
	    strcmp(str(d, "reason"), "watchdog") == 0 &&
	    json_object_get(d, "uuid") == NULL, "plain xl list: the reason "
	    "from the state letter (w is watchdog), no uuid");
	json_decref(l);

	l = dominfo_parse("", 0, 1);
	ok(json_is_array(l) && json_array_size(l) == 0, "no output: no "
	    "domains");
	json_decref(l);
	l = dominfo_parse("a 1 2 3 r----- 1.0\0hidden 4 5 6 r----- 1", 38, 0);
	ok(json_array_size(l) == 1, "a NUL in xl's output ends the text");
	json_decref(l);
	return tap_done();
}
