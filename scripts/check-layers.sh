#!/bin/sh
# check-layers.sh: fails when a library module includes a module at its own
# level or above, includes another module's private header, includes a
# third-party library it does not own, when a source folder is not a
# declared module, or when the include graph has a cycle.
#
# The order is declared once, in docs/architecture.md, between the
# "layers:begin" and "layers:end" markers: one level per line, lowest first,
# modules on the same line independent of each other.  Third-party headers
# and the modules that may include them are declared between
# "third-party:begin" and "third-party:end" ("PREFIX ... : MODULE ...").
#
# usage: sh scripts/check-layers.sh [REPOSITORY]   (default: .)
set -eu
root=${1:-.}
doc="$root/docs/architecture.md"
[ -f "$doc" ] || { echo "check-layers: $doc is missing" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# module -> level
sed -n '/<!-- layers:begin -->/,/<!-- layers:end -->/p' "$doc" | grep -v '<!--' |
    grep -v '^ *```' | awk 'NF { n++; for (i = 1; i <= NF; i++) print $i, n }' > "$tmp/levels"
[ -s "$tmp/levels" ] || { echo "check-layers: no layers in $doc" >&2; exit 1; }
sed -n '/<!-- third-party:begin -->/,/<!-- third-party:end -->/p' "$doc" | grep -v '<!--' |
    grep -v '^ *```' | grep ':' > "$tmp/third" || true

# Every folder holding C sources under the library's top-level folders is a
# declared module.
status=0
for top in $(awk '{ split($1, p, "/"); print p[1] }' "$tmp/levels" | sort -u); do
    [ -d "$root/$top" ] || continue
    find "$root/$top" -name '*.[ch]' | sed "s|^$root/||; s|/[^/]*\$||" | sort -u
done > "$tmp/folders"
while read -r dir; do
    if ! awk -v m="$dir" '$1 == m { f = 1 } END { exit !f }' "$tmp/levels"; then
        echo "check-layers: $dir/ holds C sources but is not a module in docs/architecture.md" >&2
        status=1
    fi
done < "$tmp/folders"

# Every #include of every module file, as "file line module included-path".
: > "$tmp/edges"
: > "$tmp/graph"
while read -r mod level; do
    for f in "$root/$mod"/*.c "$root/$mod"/*.h; do
        [ -f "$f" ] || continue
        rel=${f#"$root"/}
        awk -v file="$rel" -v mod="$mod" '
            /^[ \t]*#[ \t]*include[ \t]*"/ {
                s = $0; sub(/^[^"]*"/, "", s); sub(/".*$/, "", s)
                print file, FNR, mod, "q", s }
            /^[ \t]*#[ \t]*include[ \t]*</ {
                s = $0; sub(/^[^<]*</, "", s); sub(/>.*$/, "", s)
                print file, FNR, mod, "s", s }' "$f" >> "$tmp/edges"
    done
done < "$tmp/levels"

awk -v levels="$tmp/levels" -v third="$tmp/third" '
    BEGIN {
        while ((getline l < levels) > 0) { split(l, a, " "); lev[a[1]] = a[2] }
        while ((getline l < third) > 0) {
            split(l, side, ":"); np = split(side[1], pre, " "); nm = split(side[2], mods, " ")
            for (i = 1; i <= np; i++) { prefix[++npre] = pre[i]
                for (j = 1; j <= nm; j++) owner[pre[i], mods[j]] = 1 }
        }
    }
    $4 == "s" {
        for (i = 1; i <= npre; i++)
            if (index($5, prefix[i]) == 1 && !owner[prefix[i], $3]) {
                printf "%s:%s: <%s> may only be included by its owner (docs/architecture.md)\n",
                       $1, $2, $5; bad = 1 }
        next
    }
    {
        inc = $5; n = split(inc, p, "/"); target = p[1]
        for (i = 2; i < n; i++) target = target "/" p[i]
        base = p[n]
        if (n == 1) next # a header of the same folder, by its bare name
        if (target == $3) next
        if (!(target in lev)) {
            if (target != "tests" && target != "bench" && target != "fuzz")
                printf "%s:%s: \"%s\" is not in a module listed in docs/architecture.md\n", $1, $2, inc
            else
                printf "%s:%s: a library module includes \"%s\"\n", $1, $2, inc
            bad = 1; next
        }
        if (base ~ /_private\.h$/) {
            printf "%s:%s: \"%s\" is private to %s/\n", $1, $2, inc, target; bad = 1 }
        if (lev[target] >= lev[$3]) {
            printf "%s:%s: %s/ (level %d) includes %s/ (level %d): only lower levels may be included\n",
                   $1, $2, $3, lev[$3], target, lev[target]; bad = 1 }
        print $3, target > "'"$tmp/graph"'"
    }
    END { exit bad }' "$tmp/edges" || status=1
# The module graph must have no cycle (the levels exclude one; tsort also
# catches a level list edited by mistake).
if [ -s "$tmp/graph" ] && ! sort -u "$tmp/graph" | tsort > /dev/null 2> "$tmp/loop"; then
    echo "check-layers: the include graph has a cycle:" >&2
    cat "$tmp/loop" >&2
    status=1
fi
if [ $status -eq 0 ]; then
    echo "check-layers: $(wc -l < "$tmp/levels" | tr -d ' ') modules," \
         "$(sort -u "$tmp/graph" | wc -l | tr -d ' ') dependencies between them, none upward, no cycle"
fi
exit $status
