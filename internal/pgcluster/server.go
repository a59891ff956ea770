package pgcluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
)

const (
	startTimeout = 30 * time.Second
	stopTimeout  = 30 * time.Second
	pollInterval = 20 * time.Millisecond
	// portAttempts bounds retries after losing the race for a free port to
	// another process between our probe and the server's bind.
	portAttempts = 5
	// portTakenLog is what postgres logs (lc_messages=C) when it could not
	// bind its port.
	portTakenLog = "could not create any TCP/IP sockets"
)

// server is a running postgres child process.
type server struct {
	cmd  *exec.Cmd
	tail *tailBuffer
	done chan struct{} // closed once the process has exited and its output is drained
	err  error         // cmd.Wait's result; read it only after done is closed
}

// startServer starts postgres on a free port and waits until it answers a
// query.
func startServer(ctx context.Context, bin, dataDir, sockDir string, persistent bool, owner *runAs, log io.Writer, settings ...string) (*server, int, error) {
	ctx, cancel := context.WithTimeoutCause(ctx, startTimeout,
		fmt.Errorf("not accepting connections after %s", startTimeout))
	defer cancel()
	for attempt := 1; ; attempt++ {
		port, err := freePort()
		if err != nil {
			return nil, 0, err
		}
		s, err := launch(bin, dataDir, sockDir, port, persistent, owner, log, settings...)
		if err != nil {
			return nil, 0, err
		}
		err = s.waitReady(ctx, port)
		if err == nil {
			return s, port, nil
		}
		s.kill()
		if attempt < portAttempts && s.tail.Contains(portTakenLog) {
			continue
		}
		return nil, 0, err
	}
}

// freePort returns a port that was free a moment ago; the server may still
// lose it to another process, which startServer retries.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pgcluster: find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// settings ("name=value") are passed last, so they override the defaults.
func launch(bin, dataDir, sockDir string, port int, persistent bool, owner *runAs, log io.Writer, settings ...string) (*server, error) {
	args := []string{
		"-D", dataDir,
		"-c", "listen_addresses=127.0.0.1",
		"-p", strconv.Itoa(port),
		// Our own socket dir, not the system's /var/run/postgresql, which a
		// system cluster owns and we may not write.
		"-k", sockDir,
		// fsync=off (-F) and full_page_writes=off only risk data if the
		// machine crashes.
		"-F",
		"-c", "full_page_writes=off",
		// Parallel tests each hold a pool; the default 100 runs out.
		"-c", "max_connections=300",
	}
	if !persistent {
		// An async commit is lost if the server is killed within ~0.6 s
		// (3 × wal_writer_delay). That is fine for a throwaway cluster, but a
		// killed `billingd dev` (and Pdeathsig with it) must not lose the
		// last commits of a persistent one; with fsync off, a synchronous
		// commit costs only a write(2).
		args = append(args, "-c", "synchronous_commit=off")
	}
	for _, kv := range settings {
		args = append(args, "-c", kv)
	}
	cmd := exec.Command(filepath.Join(bin, "postgres"), args...)
	cmd.Dir = sockDir // see initdb
	cmd.SysProcAttr = owner.sysProcAttr()
	setPdeathsig(cmd.SysProcAttr)
	s := &server{cmd: cmd, tail: &tailBuffer{}, done: make(chan struct{})}
	cmd.Stdout = logWriter(s.tail, log)
	cmd.Stderr = cmd.Stdout
	// After the postmaster exits, its orphaned backends may hold the output
	// pipe open for a moment; do not let Wait hang on a stuck one.
	cmd.WaitDelay = 5 * time.Second

	started := make(chan error, 1)
	go func() {
		// Pdeathsig fires when the thread that forked the child exits, not the
		// process. Locking this goroutine to its thread and parking it in Wait
		// for the child's whole life keeps that thread alive exactly as long
		// as the server; returning still locked retires the thread afterwards.
		runtime.LockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		s.err = cmd.Wait()
		close(s.done)
	}()
	if err := <-started; err != nil {
		return nil, fmt.Errorf("pgcluster: start postgres: %w", err)
	}
	return s, nil
}

// waitReady polls until the server answers a query on port.
func (s *server) waitReady(ctx context.Context, port int) error {
	url := connURL(port, "postgres")
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	exited := func() error {
		return fmt.Errorf("pgcluster: postgres exited during startup (%v); server log:\n%s", s.err, s.tail)
	}
	for {
		// Checked before each ping, not only in the select below, which
		// picks at random among ready cases: a dead server must not cost
		// another ping against whatever now holds its port.
		select {
		case <-s.done:
			return exited()
		default:
		}
		err := ping(ctx, url)
		if err == nil {
			return nil
		}
		select {
		case <-s.done:
			return exited()
		case <-ctx.Done():
			return fmt.Errorf("pgcluster: postgres on port %d: %w (last try: %v); server log:\n%s",
				port, context.Cause(ctx), err, s.tail)
		case <-tick.C:
		}
	}
}

// ping runs a query rather than only dialing: a starting server accepts
// connections well before it accepts queries ("the database system is
// starting up").
func ping(ctx context.Context, url string) error {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "SELECT 1")
	return err
}

// stop shuts the server down and waits for it to exit.
func (s *server) stop() error {
	select {
	case <-s.done:
		return fmt.Errorf("pgcluster: postgres had exited before Stop (%v); server log:\n%s", s.err, s.tail)
	default:
	}
	// SIGINT is Postgres's fast shutdown. SIGTERM (smart) would wait for every
	// client to disconnect, so a pool a test forgot to close would hang Stop.
	if err := s.cmd.Process.Signal(os.Interrupt); err != nil && !errors.Is(err, os.ErrProcessDone) {
		s.cmd.Process.Kill()
	}
	timer := time.NewTimer(stopTimeout)
	defer timer.Stop()
	select {
	case <-s.done:
	case <-timer.C:
		s.kill()
		return fmt.Errorf("pgcluster: postgres ignored fast shutdown for %s and was killed; server log:\n%s", stopTimeout, s.tail)
	}
	if s.err != nil {
		return fmt.Errorf("pgcluster: postgres shutdown: %w; server log:\n%s", s.err, s.tail)
	}
	return nil
}

// kill ends the server at once and waits for it; a persistent data dir then
// needs crash recovery on the next start, which postgres does by itself.
func (s *server) kill() {
	s.cmd.Process.Kill()
	<-s.done
}
