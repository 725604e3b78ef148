# The VM-test verdict of `cargo xtask vm-test` (tools/ktap), for the flake's
# checks: the top-level KTAP has its version line, a plan 1..N and N results,
# all ok; the end marker is there; the kernel reported nothing.  Report
# kinds and their line starts follow tools/ktap/src/kernel.rs.
function starts(s, p) { return substr(s, 1, length(p)) == p }
function report(s,    n, w, i) {
	if (starts(s, "Kernel panic - not syncing")) return "panic"
	if (starts(s, "------------[ cut here ]------------")) return "WARNING"
	n = split("WARNING: possible circular locking dependency|WARNING: possible recursive locking|WARNING: inconsistent lock state|inconsistent lock state|WARNING: suspicious RCU usage|WARNING: possible irq lock inversion|INFO: possible irq lock inversion|WARNING: bad unlock balance|WARNING: held lock freed|WARNING: lock held when returning to user space|WARNING: Nested lock was not taken|BUG: sleeping function called from invalid context|BUG: Invalid wait context|DEBUG_LOCKS_WARN_ON", w, "|")
	for (i = 1; i <= n; i++) if (starts(s, w[i])) return "lockdep"
	if (starts(s, "WARNING: ") && index(s, "lock order detected")) return "lockdep"
	if (starts(s, "BUG: KASAN:")) return "KASAN"
	if (starts(s, "BUG: KFENCE:")) return "KFENCE"
	if (starts(s, "BUG: ") || starts(s, "kernel BUG at ")) return "BUG"
	if (starts(s, "WARNING: CPU:") || starts(s, "WARNING: at ")) return "WARNING"
	n = split("Oops|Internal error: Oops|Unable to handle kernel |general protection fault|Kernel BUG [", w, "|")
	for (i = 1; i <= n; i++) if (starts(s, w[i])) return "oops"
	if (starts(s, "UBSAN:")) return "UBSAN"
	if (s ~ /^kmemleak: [0-9]*[1-9][0-9]* new suspected memory leak/) return "kmemleak"
	if (starts(s, "INFO: task ") && index(s, " blocked for more than ")) return "hung task"
	sub(/^rcu: /, "", s)
	if (starts(s, "INFO: rcu") && (index(s, "detected stall") || index(s, "detected expedited stall"))) return "RCU stall"
	return ""
}
{
	line = $0
	sub(/\r$/, "", line)
	# The printk prefix: a timestamp, then with PRINTK_CALLER a caller id.
	if (match(line, /^\[[0-9. ]*[0-9.][0-9. ]*\] ?/)) line = substr(line, RLENGTH + 1)
	if (match(line, /^\[[0-9TC ]*[0-9TC][0-9TC ]*\] ?/)) line = substr(line, RLENGTH + 1)
	s = line
	gsub(/^[ \t]+|[ \t]+$/, "", s)
	if (s == "# netspec-vm: end") { end = 1; next }
	if (line ~ /^KTAP version /) { version = 1; next }
	if (line ~ /^1\.\.[0-9]+/ && plan == "") { plan = substr(line, 4) + 0; next }
	if (line ~ /^(not )?ok [0-9]+/) {
		results++
		if (line ~ /^not ok/ && line !~ /# [Ss][Kk][Ii][Pp]/) { failed++; print "FAILED: " line }
		next
	}
	k = report(s)
	if (k != "") { reports++; print "kernel report (" k ") on line " NR ": " s }
}
END {
	bad = !version || plan == "" || results != plan || failed || !end || reports
	printf "KTAP: %s, plan %s, %d result(s), %d failed; end marker: %s; kernel reports: %d => %s\n", \
		version ? "version 1" : "no version line", plan == "" ? "missing" : "1.." plan, \
		results, failed, end ? "yes" : "no", reports, bad ? "FAIL" : "PASS"
	exit bad ? 1 : 0
}
