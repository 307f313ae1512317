package main

import (
	"io"
	"path/filepath"
	"testing"

	"github.com/marketanalytics/pipeline/tools/internal/chart"
)

func TestParseArgs(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		want    chart.Query
		out     string
		wantErr bool
	}{
		{"symbol first", []string{"AAPL", "--interval", "1h", "--from", "2026-03-02T13:30:00Z"},
			chart.Query{Symbol: "AAPL", Interval: "1h", From: "2026-03-02T13:30:00Z"}, filepath.Join("build", "charts", "AAPL.html"), false},
		{"symbol last", []string{"--to", "1772463600000", "--out", "x.html", "BRK.B"},
			chart.Query{Symbol: "BRK.B", To: "1772463600000"}, "x.html", false},
		{"symbol between flags", []string{"--interval", "1d", "BTC-USD", "--endpoint", "http://127.0.0.1:1/prod"},
			chart.Query{Symbol: "BTC-USD", Interval: "1d"}, filepath.Join("build", "charts", "BTC-USD.html"), false},
		{"no symbol", []string{"--interval", "1h"}, chart.Query{}, "", true},
		{"two symbols", []string{"AAPL", "MSFT"}, chart.Query{}, "", true},
		{"not a symbol", []string{"../../etc/passwd"}, chart.Query{}, "", true},
		{"unknown interval", []string{"AAPL", "--interval", "7m"}, chart.Query{}, "", true},
		{"unknown flag", []string{"AAPL", "--colour", "red"}, chart.Query{}, "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, err := parseArgs(tc.args, io.Discard)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("no error; parsed %+v", o)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if o.q != tc.want || o.out != tc.out {
				t.Errorf("parsed %+v out %q, want %+v out %q", o.q, o.out, tc.want, tc.out)
			}
		})
	}
}
