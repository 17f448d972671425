package hashpool

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestLowerPriority changes a child's (this test binary's) priority and
// reads every one of its threads' policy and niceness back from /proc: a
// thread left at normal priority would let hashing compete with the server
// at full weight.
func TestLowerPriority(t *testing.T) {
	if p := os.Getenv("HASHPOOL_TEST_PRIORITY"); p != "" {
		if err := LowerPriority(p); err != nil {
			t.Fatal(err)
		}
		want := map[string][2]string{"idle": {"5", "0"}, "low": {"0", "10"}, "normal": {"0", "0"}}[p]
		tasks, err := os.ReadDir("/proc/self/task")
		if err != nil {
			t.Fatal(err)
		}
		for _, task := range tasks {
			stat, err := os.ReadFile("/proc/self/task/" + task.Name() + "/stat")
			if err != nil {
				continue // the thread ended meanwhile
			}
			// Fields after the ")" that ends the command name start at
			// field 3; field 19 is the nice value, 41 the policy.
			s := string(stat)
			fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
			if policy, nice := fields[41-3], fields[19-3]; policy != want[0] || nice != want[1] {
				t.Errorf("thread %s: policy %s nice %s, want policy %s nice %s", task.Name(), policy, nice, want[0], want[1])
			}
		}
		return
	}
	for _, p := range []string{"idle", "low", "normal"} {
		t.Run(p, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestLowerPriority$", "-test.v")
			cmd.Env = append(os.Environ(), "HASHPOOL_TEST_PRIORITY="+p)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("child: %v\n%s", err, out)
			}
		})
	}
	if err := LowerPriority("urgent"); err == nil {
		t.Error("LowerPriority(urgent) succeeded")
	}
}
