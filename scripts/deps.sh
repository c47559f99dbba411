#!/usr/bin/env bash
# Lists what is outdated in the build: dependencies (dependencyManagement included), plugins, and the root pom's
# version properties, as reported by versions-maven-plugin against Maven Central. Changes nothing; exit 0 unless Maven
# itself fails. See docs/dependencies.md for why each version is where it is.
#   scripts/deps.sh [--all-versions] [--out FILE]
#     --all-versions  also list pre-releases (alpha, beta, milestone, RC); left out by default
#     --out FILE      also keep the full Maven output in FILE (default: a temporary file, removed at the end)
set -euo pipefail

# 2.23.0: the newest that runs on Maven 3.8.7 (2.24.0 and later require Maven 3.9).
VERSIONS_PLUGIN=org.codehaus.mojo:versions-maven-plugin:2.23.0
root=$(cd "$(dirname "$0")/.." && pwd)
out=
ignore='(?i).*[-.](alpha|beta|m|rc|cr|ea|preview|snapshot)[-.]?[0-9]*.*'
while [[ $# -gt 0 ]]; do
  case $1 in
    --all-versions) ignore=; shift ;;
    --out) out=$2; shift 2 ;;
    -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
    *) echo "deps.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
done
keep=$out
if [[ -z $out ]]; then
  out=$(mktemp)
  trap 'rm -f "$out"' EXIT
fi

# One Maven run, three goals, over every module.
if ! mvn -B -ntp -f "$root/pom.xml" \
    -Dmaven.version.ignore="$ignore" \
    -DprocessDependencyManagement=true -DprocessDependencyManagementTransitive=false \
    -DprocessPluginDependencies=true -DprocessPluginDependenciesInPluginManagement=true \
    "$VERSIONS_PLUGIN:display-dependency-updates" \
    "$VERSIONS_PLUGIN:display-plugin-updates" \
    "$VERSIONS_PLUGIN:display-property-updates" >"$out" 2>&1; then
  tail -40 "$out" >&2
  echo "deps.sh: maven failed; full output in ${keep:-(kept at) $out}" >&2
  trap - EXIT
  exit 1
fi

# Maven prints "[INFO]   group:artifact ....... 1.0 -> 2.0", wrapped over two lines when the name is long. Join the
# wrapped lines, merge what several modules report, and print each update once with the modules that use it. Without
# a declared minimum Maven, display-plugin-updates lists plugin updates under the Maven version each one needs, oldest
# first: the last one listed for a plugin is its newest release.
maven=$(sed -e 's/\x1b\[[0-9;]*m//g' "$out" | sed -n 's/.*Apache Maven \([0-9][0-9.]*\).*/\1/p' | head -1)
[[ -n $maven ]] || maven=$(mvn -v 2>/dev/null | sed -n 's/.*Apache Maven \([0-9][0-9.]*\).*/\1/p' | head -1)
sed -e 's/\x1b\[[0-9;]*m//g' "$out" | awk -v maven="$maven" '
  function newer(a, b,   x, y, i, n) {               # is version a above version b? (numbers only)
    n = split(a, x, "."); split(b, y, ".")
    for (i = 1; i <= (n > length(y) ? n : length(y)); i++) if (x[i] + 0 != y[i] + 0) return x[i] + 0 > y[i] + 0
    return 0
  }
  /^\[INFO\] -+< .* >-+$/ { sub(/^\[INFO\] -+< /, ""); sub(/ >-+$/, ""); sub(/^io\.mqdb:mqdb-/, ""); module = $0; next }
  /The following dependencies in .* have newer versions:/ { section = "Dependencies"; need = ""; next }
  /The following plugin updates are available:/ { section = "Plugins"; need = ""; next }
  /Require Maven .* to use the following plugin updates:/ {
    section = "Plugins"; need = $0; sub(/.*Require Maven /, "", need); sub(/ to use.*/, "", need); next }
  /The following version property updates are available:/ { section = "Version properties"; need = ""; next }
  /The following version properties are referencing the newest available version:/ { section = ""; next }
  section != "" && /^\[INFO\]   / {
    line = $0; sub(/^\[INFO\] +/, "", line)
    if (line !~ /->/) { sub(/ \.+$/, "", line); pending = (line ~ / /) ? "" : line; next }   # wrapped name, or no update
    if (pending != "") { line = pending " " line; pending = "" }
    gsub(/ \.+ /, " ", line); gsub(/ +/, " ", line)
    split(line, f, " "); name = f[1]; key = section "|" name
    if (!newer(f[4], f[2])) next        # under a lower Maven the plugin report also lists older releases
    if (!(key in current)) { order[++n] = key; current[key] = f[2] }
    if (need == "" || !newer(need, maven)) { if (!(key in usable) || newer(f[4], usable[key])) usable[key] = f[4] }
    else if (!(key in blocked)) blocked[key] = f[4] " needs Maven " need
    if (index(" " mods[key] " ", " " module " ") == 0) mods[key] = mods[key] (mods[key] == "" ? "" : " ") module
    next
  }
  /^\[INFO\] *$/ { pending = "" }
  /^\[INFO\] --- / { section = "" }
  END {
    if (n == 0) { print "Everything is at its newest release."; exit }
    for (s = 1; s <= 3; s++) {
      title = (s == 1 ? "Dependencies" : s == 2 ? "Plugins" : "Version properties"); printed = 0
      for (i = 1; i <= n; i++) {
        key = order[i]; split(key, part, "|"); if (part[1] != title) continue
        if (!printed) { printf "%s%s (current -> newest release; modules):\n", (any ? "\n" : ""), title; printed = any = 1 }
        to = (key in usable) ? current[key] " -> " usable[key] : current[key] " (newest usable here)"
        if (key in blocked) to = to ", " blocked[key] " (Maven here: " maven ")"
        printf "  %-45s %-24s [%s]\n", part[2], to, mods[key]
      }
    }
  }'
echo
echo "Pre-releases are ${ignore:+not }listed${ignore:+ (--all-versions lists them)}. Why a version is held back: docs/dependencies.md."
