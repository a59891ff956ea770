package pgcluster

import (
	"bytes"
	"io"
	"strings"
	"sync"
)

// tailSize bounds the log kept for error messages: enough to show why a start
// failed, bounded however long the server runs.
const tailSize = 4 << 10

// tailBuffer is an io.Writer that keeps the last tailSize bytes written.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > 2*tailSize { // trim in batches, not on every write
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-tailSize:]...)
	}
	return len(p), nil
}

// String returns the kept log, starting at a line boundary.
func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	b := t.buf
	if len(b) > tailSize {
		b = b[len(b)-tailSize:]
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			b = b[i+1:]
		}
	}
	return string(b)
}

func (t *tailBuffer) Contains(s string) bool { return strings.Contains(t.String(), s) }

// logWriter sends a child's output to the tail and to the caller's log.
func logWriter(tail *tailBuffer, log io.Writer) io.Writer {
	return io.MultiWriter(tail, ignoreErrors{log})
}

// ignoreErrors hides the caller's write errors: exec stops copying a child's
// output at the first error, after which the child blocks on a full pipe and
// a server would hang mid-query.
type ignoreErrors struct{ w io.Writer }

func (w ignoreErrors) Write(p []byte) (int, error) {
	w.w.Write(p)
	return len(p), nil
}
