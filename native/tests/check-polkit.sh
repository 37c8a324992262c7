#!/bin/sh
# The polkit action and the install target agree: the policy names the
# exact path `make install` puts the helper at, asks for an
# administrator (kept) only from an active local session, and is the one
# action the README documents.  TAP output.
# usage: check-polkit.sh POLICY HELPER_PATH
set -u
policy=$1; path=$2; n=0; failed=0
check() {
	n=$((n + 1))
	if eval "$1"; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed + 1)); fi
}
check '[ -r "$policy" ]' "the policy file exists"
check 'grep -q "<action id=\"org.xendeck.helper\">" "$policy"' "it defines org.xendeck.helper"
check 'grep -q "<annotate key=\"org.freedesktop.policykit.exec.path\">$path</annotate>" "$policy"' "exec.path is the installed helper, $path"
check 'grep -q "<allow_active>auth_admin_keep</allow_active>" "$policy"' "an active session needs an administrator, kept"
check 'grep -q "<allow_inactive>no</allow_inactive>" "$policy" && grep -q "<allow_any>no</allow_any>" "$policy"' "inactive and remote sessions may not"
check '[ "$(grep -c "<action " "$policy")" = 1 ]' "exactly one action"
echo "$((n - failed)) passed, $failed failed"
[ "$failed" = 0 ]
