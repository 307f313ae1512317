package motoserver

import (
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// TestStartStop starts a real moto server from the project venv, checks that
// it answers, and that Stop leaves nothing listening.
func TestStartStop(t *testing.T) {
	t.Setenv("MOTO_ENDPOINT", "")
	_, file, _, _ := runtime.Caller(0)
	repo := filepath.Join(filepath.Dir(file), "..", "..")
	srv, err := Start(Options{RepoDir: repo})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(srv.Endpoint() + "/moto-api/data.json")
	if err != nil {
		srv.Stop()
		t.Fatal(err)
	}
	resp.Body.Close()
	srv.Stop()
	srv.Stop() // idempotent
	if _, err := http.Get(srv.Endpoint() + "/moto-api/data.json"); err == nil {
		t.Fatal("moto still answers after Stop")
	}
	if _, err := os.Stat(filepath.Join(repo, ".venv", ".moto-requirement")); err != nil {
		t.Fatalf("venv stamp missing: %v", err)
	}
}
