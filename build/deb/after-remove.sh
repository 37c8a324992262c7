#!/bin/sh
# Remove what after-install.sh put outside the package's own files.
set -e
if [ "$1" = remove ] || [ "$1" = purge ]; then
  rm -f /usr/share/polkit-1/actions/org.xendeck.helper.policy
  rm -rf /usr/libexec/xendeck
fi
