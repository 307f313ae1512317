// Package motoserver runs moto, the AWS API emulator, for tests and the local
// pipeline: it keeps a project-local Python venv with a pinned moto, starts
// `moto_server` on a free loopback port, waits until it answers, and stops the
// whole process group. It uses the standard library only, so the magefile can
// import it cheaply.
package motoserver

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Requirement is the pinned moto distribution installed into the venv.
const Requirement = "moto[server]==5.2.5"

// Options configure Start.
type Options struct {
	// RepoDir is the repository root; the venv lives in RepoDir/.venv.
	RepoDir string
	// Python is the interpreter creating the venv (default python3).
	Python string
	// Log receives moto's output (default: discarded).
	Log *os.File
}

// Server is a running (or borrowed) moto server.
type Server struct {
	endpoint string
	cmd      *exec.Cmd
	done     chan struct{}
}

// Endpoint is the server's base URL, e.g. http://127.0.0.1:40123.
func (s *Server) Endpoint() string { return s.endpoint }

// Start returns the moto server named by MOTO_ENDPOINT when set, or else
// ensures the venv and starts a new server on a free port.
func Start(opts Options) (*Server, error) {
	if ep := os.Getenv("MOTO_ENDPOINT"); ep != "" {
		if err := waitReady(ep, 10*time.Second, nil); err != nil {
			return nil, fmt.Errorf("MOTO_ENDPOINT %s: %w", ep, err)
		}
		return &Server{endpoint: ep}, nil
	}
	bin, err := Ensure(opts)
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", fmt.Sprint(port))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if opts.Log != nil {
		cmd.Stdout, cmd.Stderr = opts.Log, opts.Log
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start moto_server: %w", err)
	}
	s := &Server{endpoint: fmt.Sprintf("http://127.0.0.1:%d", port), cmd: cmd, done: make(chan struct{})}
	go func() { cmd.Wait(); close(s.done) }()
	if err := waitReady(s.endpoint, 60*time.Second, s.done); err != nil {
		s.Stop()
		return nil, fmt.Errorf("moto_server did not come up: %w", err)
	}
	return s, nil
}

// Stop ends the server and everything it started. Safe to call twice, and a
// no-op for a borrowed (MOTO_ENDPOINT) server.
func (s *Server) Stop() {
	if s == nil || s.cmd == nil || s.cmd.Process == nil {
		return
	}
	syscall.Kill(-s.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-s.done
	}
}

// Ensure creates RepoDir/.venv with Requirement installed, unless a stamp
// file says it is already there, and returns the moto_server executable.
func Ensure(opts Options) (string, error) {
	if opts.RepoDir == "" {
		return "", errors.New("motoserver: RepoDir is required")
	}
	py := opts.Python
	if py == "" {
		py = "python3"
	}
	venv := filepath.Join(opts.RepoDir, ".venv")
	bin := filepath.Join(venv, "bin", "moto_server")
	stamp := filepath.Join(venv, ".moto-requirement")
	if b, err := os.ReadFile(stamp); err == nil && strings.TrimSpace(string(b)) == Requirement {
		if _, err := os.Stat(bin); err == nil {
			return bin, nil
		}
	}
	steps := [][]string{
		{py, "-m", "venv", venv},
		{filepath.Join(venv, "bin", "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", Requirement},
	}
	for _, s := range steps {
		fmt.Fprintln(os.Stderr, "motoserver:", strings.Join(s, " "))
		cmd := exec.Command(s[0], s[1:]...)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return "", fmt.Errorf("%s: %w", strings.Join(s, " "), err)
		}
	}
	if err := os.WriteFile(stamp, []byte(Requirement+"\n"), 0o644); err != nil {
		return "", err
	}
	return bin, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitReady polls moto's reset-free health endpoint until it answers.
func waitReady(endpoint string, timeout time.Duration, exited <-chan struct{}) error {
	deadline := time.Now().Add(timeout)
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		resp, err := client.Get(endpoint + "/moto-api/data.json")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("status %s", resp.Status)
		}
		select {
		case <-exited:
			return errors.New("moto_server exited")
		default:
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(200 * time.Millisecond)
	}
}
