# shellcheck shell=bash
# Sourced by the launchers in tools/ (tools/report, tools/calibrate_hump2d, ...): runs a Python
# script of tools/ with a known interpreter, whatever `python3` comes first on PATH (a conda or
# pyenv Python without numpy/matplotlib must not be picked up by accident). The interpreter is
#   1. $VITRIFY_PYTHON, when set (a path, or a command name looked up on PATH);
#   2. otherwise the project's virtual environment, <repo>/.venv/bin/python, when it exists
#      (tools/setup creates it on top of Debian's python3-numpy and python3-matplotlib);
#   3. otherwise /usr/bin/python3 (Debian's Python).
# Before running the script, the modules it needs are looked up; when one is missing the
# launcher exits with status 1 and says which interpreter it tried and what to install.
#
# Usage (in a launcher): . "$here/lib/python.sh"; vitrify_python_exec NAME "MODULES" SCRIPT "$@"

# The repository (or installed share/vitrify) directory: the parent of tools/.
vitrify_python_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

# Prints the interpreter to use and, on the second line, why it was chosen.
vitrify_python_choose() {
  if [ -n "${VITRIFY_PYTHON:-}" ]; then
    printf '%s\n%s\n' "$VITRIFY_PYTHON" "set by VITRIFY_PYTHON"
  elif [ -x "$vitrify_python_root/.venv/bin/python" ]; then
    printf '%s\n%s\n' "$vitrify_python_root/.venv/bin/python" "the project's virtual environment"
  else
    printf '%s\n%s\n' "/usr/bin/python3" "no VITRIFY_PYTHON and no $vitrify_python_root/.venv"
  fi
}

# vitrify_python_exec NAME "MODULE ..." SCRIPT [ARGS...]: replaces the shell by the interpreter
# running SCRIPT with ARGS, after checking that it imports every MODULE.
vitrify_python_exec() {
  local name="$1" modules="$2" script="$3"
  shift 3
  local chosen python why
  chosen="$(vitrify_python_choose)"
  python="${chosen%%$'\n'*}"
  why="${chosen#*$'\n'}"
  local resolved
  resolved="$(command -v -- "$python" 2>/dev/null || true)"
  if [ -z "$resolved" ] || [ ! -x "$resolved" ]; then
    {
      echo "$name: no Python interpreter at '$python' ($why)."
      echo "  Install Debian's python3 (apt-get install python3 python3-numpy python3-matplotlib),"
      if [ -f "$vitrify_python_root/CMakeLists.txt" ]; then
        echo "  or run tools/setup, which also creates $vitrify_python_root/.venv,"
      fi
      echo "  or set VITRIFY_PYTHON to a Python 3."
    } >&2
    exit 1
  fi
  # The modules are looked up (importlib.util.find_spec), not imported: fast, and an interpreter
  # that is not a Python 3 fails the check as well.
  local find='import importlib.util as u, sys; sys.exit(0 if all(u.find_spec(m) for m in sys.argv[1:]) else 1)'
  if [ -n "$modules" ]; then
    # shellcheck disable=SC2086 # one argument per module
    if ! "$resolved" -c "$find" $modules >/dev/null 2>&1; then
      local missing=() packages=() m
      for m in $modules; do
        if ! "$resolved" -c "$find" "$m" >/dev/null 2>&1; then
          missing+=("$m")
          packages+=("python3-$m")
        fi
      done
      [ ${#missing[@]} -gt 0 ] || missing=("$modules (the import fails)")
      [ ${#packages[@]} -gt 0 ] || packages=(python3-numpy python3-matplotlib)
      {
        echo "$name: $resolved ($why) cannot import: ${missing[*]}."
        echo "  Install Debian's packages: apt-get install ${packages[*]},"
        if [ -f "$vitrify_python_root/CMakeLists.txt" ]; then
          echo "  or run tools/setup, which installs them and creates $vitrify_python_root/.venv,"
        fi
        echo "  or set VITRIFY_PYTHON to a Python that has ${modules// /, }."
      } >&2
      exit 1
    fi
  fi
  exec "$resolved" "$script" "$@"
}
