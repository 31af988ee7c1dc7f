# bench/lib.sh -- helpers shared by the benchmark scripts (sourced, not run).
# Each is self-contained: no globals read or written.

# A loopback port nobody listens on (the kernel picks it; a race with another
# process is possible, and starting a server on it then fails loudly).
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# Wall-clock seconds with nanoseconds.
now() { date +%s.%N; }

# redis-cli against 127.0.0.1:PORT, bounded to 60 s: cli PORT ARGS...
cli() { local port=$1; shift; timeout 60 redis-cli -h 127.0.0.1 -p "$port" "$@"; }

# "utime stime" ticks of a process (all threads): fields 14 and 15 of
# /proc/PID/stat, counted after the parenthesised command name.
cpu_ticks_us() {
    local s
    s=$(cat "/proc/$1/stat")
    s=${s##*) }
    # shellcheck disable=SC2086
    set -- $s
    echo "${12} ${13}"
}

# The median of the numbers on stdin ("nan" for none).
median() {
    sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) print "nan";
        else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# Resident set size of PID in bytes.
rss_bytes() { awk '/^VmRSS:/ { print $2 * 1024 }' "/proc/$1/status"; }

# INFO memory's used_memory of the server on PORT ("n/a" when unavailable).
used_memory() {
    local v
    v=$(redis-cli -h 127.0.0.1 -p "$1" info memory 2>/dev/null | tr -d '\r' | awk -F: '$1 == "used_memory" { print $2 }')
    echo "${v:-n/a}"
}
