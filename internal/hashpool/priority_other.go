//go:build !linux

package hashpool

// LowerPriority does nothing where thread niceness is not portable; see the
// Linux version.
func LowerPriority() {}
