#!/bin/sh
# Put the helper and its polkit action where pkexec looks (the action names the exact path).
set -e
RES="/opt/Xendeck/resources"
install -D -o root -g root -m 0755 "$RES/xendeck-helper" /usr/libexec/xendeck/xendeck-helper
install -D -o root -g root -m 0644 "$RES/org.xendeck.helper.policy" /usr/share/polkit-1/actions/org.xendeck.helper.policy
