package hashpool

import (
	"os"
	"strconv"
	"syscall"
)

// workerNice is the niceness hash workers run at. Hashing is throughput
// work whose cost is the point; token checks are latency work. At nice 10 a
// busy worker gets about a tenth of a core's share against a busy server
// thread, so the kernel hands the CPU to /users/me first and to hashing
// whenever it is otherwise idle (measured in docs/benchmarks.md).
const workerNice = 10

// LowerPriority renices the calling process to workerNice. On Linux
// niceness belongs to each thread, so every thread the process has is
// reniced (twice over, to catch one the runtime starts meanwhile); threads
// started later inherit it from the thread that starts them. Raising
// niceness needs no privilege. Errors are ignored: a worker at normal
// priority still works, only less politely.
func LowerPriority() {
	for range 2 {
		tasks, err := os.ReadDir("/proc/self/task")
		if err != nil {
			syscall.Setpriority(syscall.PRIO_PROCESS, 0, workerNice)
			return
		}
		for _, t := range tasks {
			if tid, err := strconv.Atoi(t.Name()); err == nil {
				syscall.Setpriority(syscall.PRIO_PROCESS, tid, workerNice)
			}
		}
	}
}
