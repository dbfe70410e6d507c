# Differential runs against syncoid 2.3.0 (load after lib and replicate).
#
# Two pairs of pools hold the same history: $REF230_SYNCOID (Perl, unpacked by
# tests/guest/install-deps.sh) replicates sa -> ta, zkeep run as `syncoid` sb -> tb,
# with the same command line. diff_sync compares the exit status and the state of
# both pairs; said_alike compares chosen lines of what each said.

diff_pools() { make_pool sa; make_pool ta; make_pool sb; make_pool tb; }

# on_both 'SHELL': runs SHELL twice, with $S=sa $T=ta and then $S=sb $T=tb.
on_both() {
    local pair
    for pair in "sa ta" "sb tb"; do
        # shellcheck disable=SC2086
        set -- $pair
        S=$1 T=$2 bash -euc "$BOTH" || fail "setup step failed on $1/$2: $BOTH"
    done
}

# diff_state SRC TGT: every dataset, snapshot and bookmark under SRC and TGT (datasets
# that may be missing) by role (S, T) in creation order, grouped by dataset,
# sync-snapshot times blanked; a target snapshot says whether its guid is its
# same-named source snapshot's (=), is another (!=) or has no source namesake (-); a
# dataset whether it holds a resume token. Only these two trees: a test's failure
# leaves nothing that the next test's comparison sees.
diff_state() {
    local line name type guid tok rel p
    declare -A sguid=()
    while IFS=$'\t' read -r name type guid; do
        sguid[${name#"$1"}]=$guid
    done < <(zfs list -Hp -t snapshot -o name,type,guid -r "$1" 2>/dev/null)
    for p in "$1:S" "$2:T"; do
        while IFS=$'\t' read -r name type guid tok; do
            rel=${name#"${p%:*}"}
            line="${p##*:}$rel $type"
            case $type in
            snapshot) [ "${p##*:}" = T ] && { if [ -z "${sguid[$rel]:-}" ]; then line+=" -"
                      elif [ "${sguid[$rel]}" = "$guid" ]; then line+=" ="; else line+=" !="; fi; } ;;
            filesystem | volume) [ "$tok" = - ] || line+=" token" ;;
            esac
            echo "$line"
        done < <(zfs list -Hp -t all -s createtxg -s name -o name,type,guid,receive_resume_token -r "${p%:*}" 2>/dev/null)
    done | sed -E "s,(syncoid_([A-Za-z0-9:._-]+_)?$HOST)_[0-9][^ ]*,\1_TIME," |
        awk '{ k = $1; sub(/[@#].*/, "", k); print k "\t" $0 }' | LC_ALL=C sort -s -t "$(printf '\t')" -k1,1 | cut -f2-
}

# diff_sync [OPTIONS...] SRC-REL TGT-REL: 2.3.0 on sa/SRC -> ta/TGT, zkeep on sb/SRC ->
# tb/TGT; the same exit status (DIFFER="REF OURS" where compat.md gives another: "2 1"
# for a dataset that failed) and the same state, or the test fails. $ref_out and
# $our_out keep what each said (stdout and stderr). Sync snapshots are named to the
# second: the other pair's run between two of a pair keeps them apart.
diff_sync() {
    local src=${*: -2:1} tgt=${*: -1} opts=("${@:1:$#-2}") want
    run "$REF230_SYNCOID" "${opts[@]}" "sa/$src" "ta/$tgt"
    ref_status=$status ref_out=$output
    run "$SYNCOID" "${opts[@]}" "sb/$src" "tb/$tgt"
    our_status=$status our_out=$output
    echo "# syncoid ${opts[*]} $src $tgt: 2.3.0 exit $ref_status, zkeep exit $our_status" >&3
    want=$ref_status
    if [ -n "${DIFFER:-}" ]; then
        [ "$ref_status" -eq "${DIFFER% *}" ] || fail "syncoid 2.3.0 exited $ref_status, not ${DIFFER% *} as this case expects" "$ref_out"
        want=${DIFFER#* }
    fi
    [ "$our_status" -eq "$want" ] ||
        fail "exit status: zkeep $our_status (want $want), syncoid 2.3.0 $ref_status" "--- 2.3.0 said:" "$ref_out" "--- zkeep said:" "$our_out"
    assert_equal "$(diff_state "sb/$src" "tb/$tgt")" "$(diff_state "sa/$src" "ta/$tgt")" \
        "state after syncoid ${opts[*]} $src $tgt (zkeep vs 2.3.0; 2.3.0 said: $ref_out)"
}

# norm_said SRC-POOL TGT-POOL: stdin with the pools by role, sync-snapshot times blanked.
norm_said() {
    sed -E "s,(^|[^A-Za-z0-9_])$1([/@ ]|$),\1S\2,g; s,(^|[^A-Za-z0-9_])$2([/@ ]|$),\1T\2,g
            s,(syncoid_([A-Za-z0-9:._-]+_)?$HOST)_[0-9][^ ]*,\1_TIME,g"
}

# said_alike PHRASE...: the lines of the last diff_sync's outputs that contain each
# PHRASE (a fixed string), from the phrase on (what comes before is the printer's
# prefix), must be alike; syncoid 2.3.0 must have said it at least once.
said_alike() {
    local ph ref ours
    for ph in "$@"; do
        ref=$(grep -F -- "$ph" <<<"$ref_out" | awk -v p="$ph" '{ print substr($0, index($0, p)) }' | norm_said sa ta)
        ours=$(grep -F -- "$ph" <<<"$our_out" | awk -v p="$ph" '{ print substr($0, index($0, p)) }' | norm_said sb tb)
        [ -n "$ref" ] || fail "syncoid 2.3.0 never said '$ph'" "$ref_out"
        assert_equal "$ours" "$ref" "lines with '$ph' (zkeep vs 2.3.0; zkeep said: $our_out)"
    done
}
