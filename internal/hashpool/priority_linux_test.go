package hashpool

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestLowerPriority renices a child (this test binary) and reads every one
// of its threads' niceness back from /proc: a thread left at 0 would let
// hashing compete with the server at full weight.
func TestLowerPriority(t *testing.T) {
	if os.Getenv("HASHPOOL_TEST_NICE") == "1" {
		LowerPriority()
		tasks, err := os.ReadDir("/proc/self/task")
		if err != nil {
			t.Fatal(err)
		}
		for _, task := range tasks {
			stat, err := os.ReadFile("/proc/self/task/" + task.Name() + "/stat")
			if err != nil {
				continue // the thread ended meanwhile
			}
			// Field 19 is the nice value; fields after the ")" that ends
			// the command name start at field 3.
			fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
			if nice := fields[19-3]; nice != "10" {
				t.Errorf("thread %s: nice %s, want 10", task.Name(), nice)
			}
		}
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestLowerPriority$", "-test.v")
	cmd.Env = append(os.Environ(), "HASHPOOL_TEST_NICE=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
}
