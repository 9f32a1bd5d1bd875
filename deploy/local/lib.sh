# shellcheck shell=bash
# Helpers that kafka.sh and postgres.sh share; sourced by both, not run on its own.
# The sourcing script defines its subcommands as cmd_<name> functions and documents them in lines
# 2-12 of its header comment (what `usage` prints).

SCRIPT_NAME="$(basename "$0")"

log() { printf '%s: %s\n' "$SCRIPT_NAME" "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}

usage() {
	sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

# Stop the server and delete its state dir, refusing anything that does not end like our own
# (`pattern`, a glob), so a mistyped environment variable cannot make this rm -rf elsewhere.
reset_state_dir() {
	local dir="$1" pattern="$2"
	cmd_stop
	# shellcheck disable=SC2053 # the pattern is meant as a glob
	[[ "$dir" == $pattern ]] || die "refusing to delete $dir"
	rm -rf "$dir"
	log "deleted $dir"
}

# Run a subcommand: `run-class ARGS` calls cmd_run_class ARGS; none or an unknown one prints the usage.
run_command() {
	[[ $# -ge 1 ]] || usage
	local handler="cmd_${1//-/_}"
	shift
	declare -F "$handler" >/dev/null || usage
	"$handler" "$@"
}
