/*
 * test-xl.c: the xl argv allowlist (ops-xl.c): subcommands, their
 * options, the number of positional arguments and the check each slot
 * applies (domain, vdev, media path, config path, disk spec, trigger).
 * xl is never run here: this is the policy alone.
 */
#include <stdio.h>
#include <string.h>

#include "dispatch.h"
#include "ops.h"
#include "tap.h"
#include "util.h"

#define A(...)	((const char *[]){ __VA_ARGS__, NULL })

static size_t
count(const char **v)
{
	size_t	n = 0;

	while (v[n] != NULL)
		n++;
	return n;
}

int
main(void)
{
	const struct {
		const char	**argv;
		int		  good;
		const char	 *what;
	} cases[] = {
		{ A("create", "/etc/xen/vm1.cfg"), 1, "create a config" },
		{ A("-v", "create", "/etc/xen/vm1.cfg"), 1, "-v create" },
		{ A("-v", "-v", "-v", "create", "/etc/xen/a.cfg"), 1,
		    "-v three times" },
		{ A("-v", "-v", "-v", "-v", "create", "/etc/xen/a.cfg"), 0,
		    "-v four times" },
		{ A("create", "-p", "/etc/xen/vm1.cfg"), 1, "create -p" },
		{ A("create", "/tmp/vm1.cfg"), 0, "a config outside /etc/xen" },
		{ A("create", "/etc/xen/../shadow"), 0, "a config with '..'" },
		{ A("create", "/etc/xenx/a.cfg"), 0, "a sibling of /etc/xen" },
		{ A("shutdown", "-w", "win10"), 1, "shutdown -w" },
		{ A("shutdown", "-x", "win10"), 0, "an unlisted option" },
		{ A("shutdown", "--wait", "win10"), 0, "a long option" },
		{ A("shutdown", "win10", "-w"), 0, "an option after the domain" },
		{ A("destroy", "3"), 1, "destroy by domid" },
		{ A("destroy", "vm1;reboot"), 0, "';' in a domain name" },
		{ A("destroy", "$(id)"), 0, "'$(' in a domain name" },
		{ A("destroy", "`id`"), 0, "backquotes in a domain name" },
		{ A("destroy", "vm1 && id"), 0, "'&&' in a domain name" },
		{ A("destroy", "vm1|id"), 0, "'|' in a domain name" },
		{ A("destroy", "-f"), 0, "an option in the domain slot" },
		{ A("destroy"), 0, "a missing domain" },
		{ A("destroy", "a", "b"), 0, "one argument too many" },
		{ A("pause", "win10"), 1, "pause" },
		{ A("unpause", "win10"), 1, "unpause" },
		{ A("cd-insert", "win10", "hdc", "/isos/tools.iso"), 1,
		    "cd-insert" },
		{ A("cd-insert", "win10", "hdc", "isos/tools.iso"), 0,
		    "cd-insert with a relative path" },
		{ A("cd-insert", "win10", "hdc;x", "/isos/t.iso"), 0,
		    "cd-insert with a bad vdev" },
		{ A("cd-eject", "win10", "hdc"), 1, "cd-eject" },
		{ A("block-attach", "win10", "target=/img/a.img,vdev=xvdb,"
		    "access=ro"), 1, "block-attach with a clean spec" },
		{ A("block-attach", "win10", "target=/img/a.img,vdev=xvdb,"
		    "script=/tmp/evil"), 0, "a disk spec with script=" },
		{ A("block-attach", "win10", "vdev=xvdb"), 0,
		    "a disk spec without a target" },
		{ A("block-detach", "-f", "win10", "xvdb"), 1, "block-detach -f" },
		{ A("list"), 1, "list" },
		{ A("list", "-v"), 1, "list -v" },
		{ A("list", "win10"), 1, "list one domain" },
		{ A("trigger", "win10", "nmi"), 1, "trigger nmi" },
		{ A("trigger", "win10", "init"), 0, "an unlisted trigger" },
		{ A("bash", "-c", "id"), 0, "bash" },
		{ A("save", "win10", "/tmp/x"), 0, "save (not allowlisted)" },
		{ A("console", "win10"), 0, "console" },
		{ A("-f", "list"), 0, "a global option other than -v" },
		{ A("-v"), 0, "no subcommand" },
		{ A(""), 0, "an empty argument" },
	};
	struct config	cfg;
	size_t		i;

	memset(&cfg, 0, sizeof(cfg));
	cfg.xl_config_dir = "/etc/xen";
	for (i = 0; i < nitems(cases); i++)
		ok((xl_argv_check(&cfg, cases[i].argv,
		    count(cases[i].argv)) == NULL) == cases[i].good,
		    "xl allowlist %s %s", cases[i].good ? "allows" : "refuses",
		    cases[i].what);
	cfg.xl_config_dir = NULL;
	ok(xl_argv_check(&cfg, A("create", "/tmp/vm1.cfg"), 2) == NULL,
	    "unelevated with overrides: any absolute config path");
	ok(xl_argv_check(&cfg, A("list", "a", "b", "c", "d", "e", "f", "g",
	    "h", "i", "j", "k", "l", "m", "n", "o", "p"), 17) != NULL,
	    "more than MAX_XL_ARGS arguments");
	return tap_done();
}
