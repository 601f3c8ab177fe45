#!/usr/bin/env bash
# Creates (once) the Python environment of the SAML peers: target/peers-venv over Debian's
# python3 with its lxml and xmlsec, plus pysaml2 and python3-saml from PyPI at the versions
# of requirements.txt. Idempotent: does nothing when the venv already has them.
set -euo pipefail
cd "$(dirname "$0")/../../.."
venv=target/peers-venv
req=tests/peers/saml/requirements.txt
stamp="$venv/.requirements"
if [ -x "$venv/bin/python" ] && cmp -s "$req" "$stamp"; then
  exit 0
fi
echo "==> SAML peers: creating $venv"
rm -rf "$venv"
/usr/bin/python3 -m venv --system-site-packages "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req"
"$venv/bin/python" -c 'import saml2, onelogin.saml2.auth, lxml, xmlsec'
cp "$req" "$stamp"
