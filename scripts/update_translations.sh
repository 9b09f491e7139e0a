#!/usr/bin/env bash
# Refresh the English catalogue after UI strings change:
#   1. makemessages collects every _("…") / {% trans %} into locale/en/LC_MESSAGES/django.po
#      (new strings arrive with an empty msgstr, changed ones as "#, fuzzy");
#   2. you translate those entries in the .po (and delete the fuzzy flags);
#   3. run this script again: compilemessages writes django.mo, which is committed because
#      fresh machines may lack gettext.
# tests/test_i18n.py fails while any msgid is untranslated or fuzzy.
# Usage: scripts/update_translations.sh [--compile-only]
set -euo pipefail
cd "$(dirname "$0")/.."

# xgettext / msgmerge / msgfmt come from Debian's gettext package.
if ! command -v xgettext >/dev/null 2>&1 || ! command -v msgfmt >/dev/null 2>&1; then
  echo "==> installing gettext"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq gettext
fi

# manage.py refuses to start without a SECRET_KEY unless DEBUG is on; these commands need neither.
export DEBUG="${DEBUG:-true}"
PO=locale/en/LC_MESSAGES/django.po

if [ "${1:-}" != "--compile-only" ]; then
  echo "==> makemessages -l en"
  # Tests, benchmarks, static files and runtime data hold no UI strings.
  .venv/bin/python manage.py makemessages -l en \
    --ignore=.venv --ignore=var --ignore=bench --ignore=tests --ignore=static
fi

echo "==> compilemessages -l en -l zh_Hans"
# zh_Hans holds Chinese for third-party apps without a catalogue of their own (django-axes).
.venv/bin/python manage.py compilemessages -l en -l zh_Hans --ignore=.venv

# msgfmt counts translated / fuzzy / untranslated entries (on stderr).
stats=$(msgfmt --statistics -o /dev/null "$PO" 2>&1)
echo "==> $PO: $stats"
case "$stats" in
  *fuzzy* | *untranslated*)
    echo "Translate the empty and fuzzy entries in $PO, remove the '#, fuzzy' lines," >&2
    echo "then run: scripts/update_translations.sh --compile-only" >&2
    exit 1
    ;;
esac
