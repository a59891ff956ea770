//go:build !unix

package pgcluster

import "syscall"

// runAs is always nil off unix: there is no root to step down from.
type runAs struct{}

func lookupRunAs() (*runAs, error)               { return nil, nil }
func (*runAs) sysProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{} }
func (*runAs) chown(string) error                { return nil }
func (*runAs) chownTree(string) error            { return nil }
func (*runAs) owns(string) bool                  { return true }
