// Command gatehouse is the gatehouse authentication server and its
// operator's tool: `gatehouse serve`, `gatehouse migrate`, `gatehouse version`.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
)

func main() {
	err := run(context.Background(), os.Args, os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "gatehouse: %v\n", err)
		os.Exit(1)
	}
}
