package cli

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"testing"
)

func TestExec(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		runErr     error
		wantCode   int
		wantRan    bool
		wantStderr string
	}{
		{"success", []string{"-n", "3"}, nil, 0, true, ""},
		{"failed run", nil, errors.New("boom"), 1, true, "tool: boom\n"},
		{"positional argument", []string{"extra"}, nil, 2, false, "tool: unexpected arguments [extra]\n"},
		{"unknown flag", []string{"-nope"}, nil, 2, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := flag.NewFlagSet("tool", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			n := fs.Int("n", 0, "a flag")
			var stderr bytes.Buffer
			ran := false
			code := Exec(context.Background(), "tool", fs, tt.args, &stderr, func(context.Context) error {
				ran = true
				return tt.runErr
			})
			if code != tt.wantCode || ran != tt.wantRan || stderr.String() != tt.wantStderr {
				t.Errorf("code %d, ran %v, stderr %q; want %d, %v, %q", code, ran, stderr.String(), tt.wantCode, tt.wantRan, tt.wantStderr)
			}
			if tt.name == "success" && *n != 3 {
				t.Errorf("flag n = %d, want 3: parsed before the run", *n)
			}
		})
	}
}
