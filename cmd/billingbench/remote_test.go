package main

import (
	"strings"
	"testing"
)

func TestCheckRemote(t *testing.T) {
	t.Parallel()
	remote := options{billingdURL: "http://127.0.0.1:8080", databaseURL: "postgres://x/y", adminToken: "t"}
	if err := remote.checkRemote(); err != nil {
		t.Fatalf("a complete remote run refused: %v", err)
	}
	if err := (options{}).checkRemote(); err != nil {
		t.Fatalf("a local run refused: %v", err)
	}
	for name, o := range map[string]options{
		"-database-url": {billingdURL: "http://h", adminToken: "t"},
		"-admin-token":  {billingdURL: "http://h", databaseURL: "postgres://x/y"},
		"-env":          {billingdURL: "http://h", databaseURL: "postgres://x/y", adminToken: "t", env: []string{"BILLINGD_X=1"}},
		"-billingd-url": {databaseURL: "postgres://x/y"},
		"-profile":      {billingdURL: "http://h", databaseURL: "postgres://x/y", adminToken: "t", profileDir: "/tmp/p"},
	} {
		if err := o.checkRemote(); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: checkRemote = %v, want an error naming it", name, err)
		}
	}
}
