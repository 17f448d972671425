package main

import (
	"context"
	"os"
	"testing"
)

// TestMain lets the test binary stand in for the gatehouse binary when the
// server under test starts its hashing workers (os.Executable is this test
// binary, run as `… hash-worker`).
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == hashWorkerCommand {
		if err := run(context.Background(), []string{"gatehouse", hashWorkerCommand}, os.Getenv, os.Stdin, os.Stdout, os.Stderr); err != nil {
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}
