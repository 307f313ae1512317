// Package cli is the frame the long-running tool commands (local, smoke)
// share: flags parsed, positional arguments refused, a context that Ctrl-C
// and SIGTERM cancel (so a started pipeline is stopped), and the exit codes
// 2 for a bad command line and 1 for a failed run.
package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Main runs run under name with the process's command line and signals,
// and exits with Exec's code when that is not 0.
func Main(name string, run func(ctx context.Context) error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := Exec(ctx, name, flag.CommandLine, os.Args[1:], os.Stderr, run)
	stop()
	if code != 0 {
		os.Exit(code)
	}
}

// Exec parses args with fs (whose flags the command registered), refuses
// positional arguments, and runs run: it returns 2 for a bad command line and
// 1 when run fails, each after a line on stderr naming the command, else 0.
func Exec(ctx context.Context, name string, fs *flag.FlagSet, args []string, stderr io.Writer, run func(ctx context.Context) error) int {
	if err := fs.Parse(args); err != nil {
		// The flag set has printed the error and its usage (or the help).
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "%s: unexpected arguments %v\n", name, fs.Args())
		return 2
	}
	if err := run(ctx); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 1
	}
	return 0
}
