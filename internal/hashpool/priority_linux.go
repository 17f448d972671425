package hashpool

import (
	"fmt"
	"os"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// workerNice is the niceness of a "low" priority worker: at nice 10 a busy
// worker gets about a tenth of a core's share against a busy server thread.
const workerNice = 10

// LowerPriority lowers the CPU priority of the calling process, a hash
// worker, to priority: "idle" (SCHED_IDLE), "low" (nice workerNice) or
// "normal" (unchanged).
//
// Hashing is throughput work whose cost is the point; token checks are
// latency work. Under SCHED_IDLE the kernel runs a worker only on CPU time
// no other task wants, and a token check that wakes up preempts it at once:
// measured in docs/benchmarks.md, a login flood then raises the p99 of
// GET /users/me about half as much as with nice 10.
//
// On Linux the scheduling policy and the niceness belong to each thread, so
// every thread the process has is changed (twice over, to catch one the Go
// runtime starts meanwhile); threads started later inherit them from the
// thread that starts them. Lowering a priority needs no privilege.
func LowerPriority(priority string) error {
	var set func(tid int) error
	switch priority {
	case "normal":
		return nil
	case "low":
		set = func(tid int) error { return syscall.Setpriority(syscall.PRIO_PROCESS, tid, workerNice) }
	case "idle":
		set = func(tid int) error {
			return unix.SchedSetAttr(tid, &unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: unix.SCHED_IDLE}, 0)
		}
	default:
		return fmt.Errorf("hash worker priority %q: want idle, low or normal", priority)
	}
	for range 2 {
		tasks, err := os.ReadDir("/proc/self/task")
		if err != nil {
			return fmt.Errorf("hash worker priority: %w", err)
		}
		for _, t := range tasks {
			tid, err := strconv.Atoi(t.Name())
			if err != nil {
				continue
			}
			if err := set(tid); err != nil && err != syscall.ESRCH { // ESRCH: the thread ended
				return fmt.Errorf("hash worker priority %s: %w", priority, err)
			}
		}
	}
	return nil
}
