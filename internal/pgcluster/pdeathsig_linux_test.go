package pgcluster

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// helperEnv marks the test binary re-run as a parent that gets killed.
const helperEnv = "PGCLUSTER_TEST_KILLED_PARENT"

func TestKilledParentLeaksNoServer(t *testing.T) {
	t.Parallel()
	parent := exec.Command(os.Args[0], "-test.run=^TestKilledParentHelper$")
	parent.Env = append(os.Environ(), helperEnv+"=1")
	parent.Stderr = os.Stderr
	out, err := parent.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := parent.Start(); err != nil {
		t.Fatal(err)
	}
	var pid int
	var scratch string
	line, err := bufio.NewReader(out).ReadString('\n')
	if _, scanErr := fmt.Sscan(line, &pid, &scratch); err != nil || scanErr != nil {
		parent.Process.Kill()
		parent.Wait()
		t.Fatalf("helper said %q (%v, %v)", line, err, scanErr)
	}
	// Nobody is left to remove the killed parent's temp dir.
	t.Cleanup(func() { os.RemoveAll(scratch) })

	parent.Process.Kill()
	parent.Wait()
	requireExits(t, pid, 10*time.Second)
}

// TestKilledParentHelper is the parent TestKilledParentLeaksNoServer kills:
// it starts a cluster, reports the server's pid, and waits to die.
func TestKilledParentHelper(t *testing.T) {
	if os.Getenv(helperEnv) != "1" {
		t.Skip("run by TestKilledParentLeaksNoServer")
	}
	c := mustStart(t, Options{})
	fmt.Printf("%d %s\n", c.srv.cmd.Process.Pid, c.scratch)
	select {}
}

// requireExits waits for process pid to end. A zombie counts as ended: once
// orphaned, it waits on a PID 1 that may never reap it (as in containers).
func requireExits(t testing.TB, pid int, timeout time.Duration) {
	t.Helper()
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if syscall.Kill(pid, 0) == syscall.ESRCH {
			return
		}
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err == nil && strings.Contains(string(stat), ") Z ") {
			return
		}
	}
	syscall.Kill(pid, syscall.SIGKILL)
	t.Fatalf("postgres (pid %d) outlived its killed parent by %s", pid, timeout)
}
