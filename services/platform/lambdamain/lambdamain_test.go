package lambdamain

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
)

type fakeHandler struct{ table, endpoint string }

func TestNew(t *testing.T) {
	t.Setenv("AWS_REGION", "us-east-1")
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	fn := Function[*fakeHandler]{
		Name: "test",
		Env:  []string{"TABLE", "QUEUE"},
		Build: func(s Setup) (*fakeHandler, error) {
			if s.Log != log || s.AWS.Region != "us-east-1" {
				t.Errorf("setup log %p region %q", s.Log, s.AWS.Region)
			}
			if s.Env.Get("QUEUE") == "bad" {
				return nil, errors.New("bad queue")
			}
			return &fakeHandler{table: s.Env.Get("TABLE"), endpoint: s.Getenv("ENDPOINT")}, nil
		},
	}
	tests := []struct {
		name    string
		env     map[string]string
		want    fakeHandler
		wantErr string
	}{
		{"complete", map[string]string{"TABLE": "t", "QUEUE": "q", "ENDPOINT": "e"}, fakeHandler{"t", "e"}, ""},
		{"without TABLE", map[string]string{"QUEUE": "q"}, fakeHandler{}, "TABLE"},
		{"nothing set", nil, fakeHandler{}, "TABLE, QUEUE"},
		{"build fails", map[string]string{"TABLE": "t", "QUEUE": "bad"}, fakeHandler{}, "bad queue"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, err := fn.New(context.Background(), log, func(k string) string { return tc.env[k] })
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one naming %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if *h != tc.want {
				t.Errorf("handler %+v, want %+v", *h, tc.want)
			}
		})
	}
}
