package naming

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Every alarm's description links a runbook paragraph that README.md has.
func TestRunbookHasEveryAlarm(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", RunbookDoc))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	start := strings.Index(doc, "\n## Runbook\n")
	if start < 0 {
		t.Fatal("README.md has no ## Runbook section")
	}
	section := doc[start+1:]
	if end := strings.Index(section[3:], "\n## "); end >= 0 {
		section = section[:end+3]
	}
	headings := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^### (.+)$`).FindAllStringSubmatch(section, -1) {
		headings[m[1]] = true
	}
	ids := append(AlarmIDs(), AlarmNoPointsAggregated)
	for _, id := range ids {
		h := RunbookHeading(id)
		if !headings[h] {
			t.Errorf("alarm %s: the runbook has no heading %q", id, h)
		}
		if !regexp.MustCompile(`^[A-Za-z0-9-]+$`).MatchString(h) {
			t.Errorf("heading %q: its GitHub anchor would not be its lower case", h)
		}
		if got, want := RunbookLink(id), RunbookDoc+"#"+strings.ToLower(h); got != want {
			t.Errorf("RunbookLink(%s) = %s, want %s", id, got, want)
		}
	}
}

func TestAlarmNames(t *testing.T) {
	n := MustNew("dev")
	seen := map[string]bool{}
	for _, id := range append(AlarmIDs(), AlarmNoPointsAggregated) {
		name := n.Alarm(id)
		if !strings.HasSuffix(name, "-dev") || seen[name] || len(name) > 255 {
			t.Errorf("alarm name %q: want unique, ending with the suffix, ≤ 255 characters", name)
		}
		seen[name] = true
	}
	if len(seen) != 16 {
		t.Errorf("%d alarms, want 16 (15 by default and the optional one)", len(seen))
	}
	if got := n.AlarmTopic(); got != "MarketDataAlarms-dev" {
		t.Errorf("AlarmTopic = %s", got)
	}
	if got := n.Dashboard(); got != "MarketData-dev" {
		t.Errorf("Dashboard = %s", got)
	}
	if got := RunbookHeading(FunctionAlarm("processor", FunctionErrors)); got != "FunctionErrors" {
		t.Errorf("RunbookHeading of a function alarm = %s, want its kind's paragraph", got)
	}
}
