// Package logtest holds what tests need to read a component's output.
package logtest

import (
	"bytes"
	"sync"
)

// Buffer collects output written from many goroutines (a logger under
// concurrent requests, a child process's output pipe) while a test reads
// it.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
