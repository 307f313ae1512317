// Package motoserver runs moto, the AWS API emulator, for tests and the local
// pipeline: it keeps a project-local Python venv with a pinned moto, starts
// `moto_server` on a free loopback port, waits until it answers, and stops the
// whole process group. It uses the standard library only, so the magefile can
// import it cheaply.
package motoserver

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Requirement is the pinned moto distribution installed into the venv.
const Requirement = "moto[server]==5.2.5"

// EndpointEnv names an already running moto server (e.g.
// http://127.0.0.1:5123) that Start borrows instead of starting its own.
const EndpointEnv = "MOTO_ENDPOINT"

// stampName is the file in the venv that records what was installed into it.
const stampName = ".moto-requirement"

// Options configure Start.
type Options struct {
	// RepoDir is the repository root; the venv lives in RepoDir/.venv.
	// Default: the nearest directory at or above the working directory that
	// holds go.work.
	RepoDir string
	// Python is the interpreter creating the venv (default python3).
	Python string
	// Log receives moto's output, and pip's when the venv is created
	// (default: discarded; the last lines go into error messages anyway).
	Log io.Writer
	// Fresh starts a private server even when MOTO_ENDPOINT is set.
	Fresh bool
	// Endpoint, when set, is borrowed like MOTO_ENDPOINT (and before it).
	Endpoint string
	// StartTimeout bounds the wait for the server to answer (default 60s).
	StartTimeout time.Duration
	// FastQuery loads fastquery.py, a shim that makes moto's DynamoDB
	// Query cost O(matching items) instead of O(table) with the same
	// answers (see the file). Only for a private server (Fresh or no
	// MOTO_ENDPOINT); the local pipeline's large runs need it.
	FastQuery bool
	// S3Events loads s3events.py, a shim that makes moto's S3 event
	// notifications carry versionId and sequencer as AWS's do (see the
	// file). Only for a private server; the local pipeline sets it.
	S3Events bool
}

// shims are the Python modules loaded into moto before it serves, by name.
//
//go:embed ddblock.py fastquery.py s3events.py
var shims embed.FS

// Server is a running (or borrowed) moto server.
type Server struct {
	endpoint string
	cmd      *exec.Cmd
	done     chan struct{}
	stop     sync.Once
	tail     *tailBuffer
}

// Endpoint is the server's base URL, e.g. http://127.0.0.1:40123.
func (s *Server) Endpoint() string { return s.endpoint }

// Borrowed reports whether the server came from MOTO_ENDPOINT (Stop leaves it running).
func (s *Server) Borrowed() bool { return s.cmd == nil }

// Start returns the moto server named by MOTO_ENDPOINT when set (and
// opts.Fresh is false), or else ensures the venv and starts a new server on a
// free port. The caller must Stop it on every path.
func Start(opts Options) (*Server, error) {
	ep := opts.Endpoint
	if ep == "" && !opts.Fresh {
		ep = os.Getenv(EndpointEnv)
	}
	if ep = strings.TrimRight(strings.TrimSpace(ep), "/"); ep != "" {
		wait := opts.StartTimeout
		if wait <= 0 {
			wait = 10 * time.Second
		}
		if err := waitReady(ep, wait, nil); err != nil {
			return nil, fmt.Errorf("%s %s: %w", EndpointEnv, ep, err)
		}
		return &Server{endpoint: ep}, nil
	}
	bin, err := Ensure(opts)
	if err != nil {
		return nil, err
	}
	timeout := opts.StartTimeout
	if timeout <= 0 {
		timeout = 60 * time.Second
	}
	// A port found free can be taken before moto binds it: try a few.
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		port, err := FreePort()
		if err != nil {
			return nil, err
		}
		// ddblock makes moto's DynamoDB tables safe under concurrent
		// requests (see ddblock.py): always loaded.
		load := []string{"ddblock"}
		if opts.FastQuery {
			load = append(load, "fastquery")
		}
		if opts.S3Events {
			load = append(load, "s3events")
		}
		dir := filepath.Dir(filepath.Dir(bin))
		for _, name := range load {
			if err := writeShim(dir, name+".py"); err != nil {
				return nil, err
			}
		}
		// The shims patch moto's modules on import; moto_server's own
		// entry point then runs with the process's arguments.
		script := fmt.Sprintf("import sys; sys.path.insert(0, %s); import %s; from moto.server import main; sys.exit(main(sys.argv[1:]))",
			strconv.Quote(dir), strings.Join(load, ", "))
		args := []string{filepath.Join(filepath.Dir(bin), "python"), "-c", script}
		s, err := launch(args, port, opts.Log, timeout)
		if err == nil {
			return s, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

func launch(argv []string, port int, log io.Writer, timeout time.Duration) (*Server, error) {
	tail := &tailBuffer{max: 4 << 10}
	var out io.Writer = tail
	if log != nil {
		out = io.MultiWriter(log, tail)
	}
	cmd := exec.Command(argv[0], append(argv[1:], "-H", "127.0.0.1", "-p", fmt.Sprint(port))...)
	cmd.SysProcAttr = procAttr()
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start moto_server: %w", err)
	}
	s := &Server{endpoint: fmt.Sprintf("http://127.0.0.1:%d", port), cmd: cmd, done: make(chan struct{}), tail: tail}
	go func() { cmd.Wait(); close(s.done) }()
	if err := waitReady(s.endpoint, timeout, s.done); err != nil {
		s.Stop()
		return nil, fmt.Errorf("moto_server on port %d did not come up: %w\n%s", port, err, tail.String())
	}
	return s, nil
}

// Stop ends the server and everything it started (its process group). Safe
// to call twice, and a no-op for a borrowed (MOTO_ENDPOINT) server.
func (s *Server) Stop() {
	if s == nil || s.cmd == nil || s.cmd.Process == nil {
		return
	}
	s.stop.Do(func() {
		pgid := s.cmd.Process.Pid
		syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(5 * time.Second):
			syscall.Kill(-pgid, syscall.SIGKILL)
			<-s.done
		}
	})
}

// Reset empties the server's account through moto's own POST
// /moto-api/reset: every resource of every service is gone afterwards. It
// gives a test an empty account without the seconds a new server takes.
func (s *Server) Reset() error {
	resp, err := http.Post(s.endpoint+"/moto-api/reset", "application/json", nil)
	if err != nil {
		return fmt.Errorf("reset moto at %s: %w", s.endpoint, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("reset moto at %s: %s %s", s.endpoint, resp.Status, bytes.TrimSpace(body))
	}
	return nil
}

// Ensure creates RepoDir/.venv with Requirement installed, unless a stamp
// file says it is already there, and returns the moto_server executable.
// Concurrent callers (parallel test processes) are serialized by a file lock,
// so the venv is created once.
func Ensure(opts Options) (string, error) {
	repo := opts.RepoDir
	if repo == "" {
		var err error
		if repo, err = RepoRoot(); err != nil {
			return "", fmt.Errorf("motoserver: %w", err)
		}
	}
	venv := filepath.Join(repo, ".venv")
	bin := filepath.Join(venv, "bin", "moto_server")
	if installed(venv) {
		return bin, nil
	}
	if err := os.MkdirAll(venv, 0o755); err != nil {
		return "", err
	}
	lock, err := os.OpenFile(filepath.Join(venv, ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", fmt.Errorf("lock %s: %w", lock.Name(), err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	if installed(venv) { // another process installed it while we waited
		return bin, nil
	}
	py := opts.Python
	if py == "" {
		py = "python3"
	}
	log := opts.Log
	if log == nil {
		log = os.Stderr
	}
	steps := [][]string{
		{py, "-m", "venv", venv},
		{filepath.Join(venv, "bin", "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", Requirement},
	}
	for _, s := range steps {
		fmt.Fprintln(log, "motoserver:", strings.Join(s, " "))
		var tail bytes.Buffer
		cmd := exec.Command(s[0], s[1:]...)
		cmd.Stdout, cmd.Stderr = log, io.MultiWriter(log, &tail)
		if err := cmd.Run(); err != nil {
			return "", fmt.Errorf("%s: %w\n%s", strings.Join(s, " "), err, strings.TrimSpace(tail.String()))
		}
	}
	if _, err := os.Stat(bin); err != nil {
		return "", fmt.Errorf("pip installed %s but %s is missing", Requirement, bin)
	}
	if err := os.WriteFile(filepath.Join(venv, stampName), []byte(Requirement+"\n"), 0o644); err != nil {
		return "", err
	}
	return bin, nil
}

// installed reports whether venv holds exactly Requirement.
func installed(venv string) bool {
	b, err := os.ReadFile(filepath.Join(venv, stampName))
	if err != nil || strings.TrimSpace(string(b)) != Requirement {
		return false
	}
	_, err = os.Stat(filepath.Join(venv, "bin", "moto_server"))
	return err == nil
}

// RepoRoot returns the nearest directory at or above the working directory
// that holds go.work.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.work in the working directory or above it")
		}
		dir = parent
	}
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitReady polls moto's state endpoint (read-only) until it answers 200,
// the process exits, or timeout passes.
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
		time.Sleep(100 * time.Millisecond)
	}
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		t.buf = t.buf[len(t.buf)-t.max:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(bytes.TrimSpace(t.buf))
}

// writeShim writes the embedded shim name into the venv (atomically:
// parallel starts may race).
func writeShim(venv, name string) error {
	data, err := shims.ReadFile(name)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(venv, ".shim-*.py")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), filepath.Join(venv, name))
}
