// Package testlog holds what tests share to read output another goroutine
// or process is still writing.
package testlog

import (
	"strings"
	"sync"
)

// Buffer collects writes and can be read while they go on (a logger in
// another goroutine, a child process's stderr).
type Buffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *Buffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String is everything written so far.
func (l *Buffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
