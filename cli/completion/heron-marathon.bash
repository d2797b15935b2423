# bash completion for heron-marathon. Source it, or install it as
# /etc/bash_completion.d/heron-marathon.

_heron_marathon_names() {
  # Topology names from ZooKeeper, with the connection flags already typed.
  local -a conn=()
  local i
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "${COMP_WORDS[i]}" in
      --zk|--config|--root|--zk-auth-file)
        conn+=("${COMP_WORDS[i]}" "${COMP_WORDS[i+1]}") ;;
    esac
  done
  heron-marathon list -o name --zk-timeout 2s "${conn[@]}" 2>/dev/null
}

_heron_marathon() {
  local cur prev cmd i
  cur="${COMP_WORDS[COMP_CWORD]}"
  prev="${COMP_WORDS[COMP_CWORD-1]}"
  local commands="submit update kill suspend resume restart status list describe diff help version"
  local conn_flags="--zk --config --root --zk-auth-file --zk-acl --zk-timeout --verbose --help"

  cmd=""
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "${COMP_WORDS[i]}" in
      --zk|--config|--root|--zk-auth-file|--zk-acl|--zk-timeout|--timeout|--output|-o|--expect-version|--container) ((i++)) ;;
      --topology-package|--topology-defn) ((i++)) ;;
      -*) ;;
      *) cmd="${COMP_WORDS[i]}"; break ;;
    esac
  done

  case "$prev" in
    --config) COMPREPLY=($(compgen -d -- "$cur")); return ;;
    --zk-auth-file) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    --topology-package)
      compopt -o filenames 2>/dev/null
      COMPREPLY=($(compgen -f -X '!*.@(tar.gz|tgz|tar|tar.bz2|tbz2|tar.xz|txz)' -- "$cur") $(compgen -d -- "$cur")); return ;;
    --topology-defn)
      compopt -o filenames 2>/dev/null
      COMPREPLY=($(compgen -f -X '!*.defn' -- "$cur") $(compgen -d -- "$cur")); return ;;
    --zk|--root|--zk-timeout|--timeout|--expect-version|--container) return ;;
    --output|-o)
      case "$cmd" in
        list) COMPREPLY=($(compgen -W "table json yaml name" -- "$cur")) ;;
        describe) COMPREPLY=($(compgen -W "text json yaml" -- "$cur")) ;;
        *) COMPREPLY=($(compgen -W "table json yaml" -- "$cur")) ;;
      esac
      return ;;
  esac

  if [[ -z "$cmd" ]]; then
    COMPREPLY=($(compgen -W "$commands $conn_flags" -- "$cur"))
    return
  fi

  local flags="$conn_flags"
  case "$cmd" in
    submit) flags="$flags --wait --timeout --dry-run --topology-package --topology-defn" ;;
    kill|suspend|resume) flags="$flags --wait --timeout --dry-run" ;;
    update) flags="$flags --wait --timeout --dry-run --expect-version --topology-package --topology-defn" ;;
    diff) flags="$flags --topology-package --topology-defn" ;;
    restart) flags="$flags --wait --timeout --dry-run --container" ;;
    status|list|describe) flags="$flags --output" ;;
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$flags" -- "$cur"))
    return
  fi
  case "$cmd" in
    submit|update|diff)
      compopt -o filenames 2>/dev/null
      COMPREPLY=($(compgen -f -X '!*.@(yaml|yml|json)' -- "$cur") $(compgen -d -- "$cur")) ;;
    kill|suspend|resume|restart|status|describe)
      COMPREPLY=($(compgen -W "$(_heron_marathon_names)" -- "$cur")) ;;
    help)
      COMPREPLY=($(compgen -W "$commands" -- "$cur")) ;;
  esac
}

complete -F _heron_marathon heron-marathon
