//go:build !linux

package hashpool

import "fmt"

// LowerPriority checks priority and otherwise does nothing: scheduling
// policies and per-thread niceness are Linux's; see the Linux version.
func LowerPriority(priority string) error {
	switch priority {
	case "idle", "low", "normal":
		return nil
	}
	return fmt.Errorf("hash worker priority %q: want idle, low or normal", priority)
}
