package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestOnlyCmdChoosesABackend checks the layering the store contract promises: no package
// but the backends themselves and cmd/kpimon (which chooses one from --db) imports a
// storage backend. Tests may open a real SQLite file; this looks at non-test imports.
func TestOnlyCmdChoosesABackend(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, "github.com/kpimon/kpimon/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	backends := []string{"github.com/kpimon/kpimon/sqlite", "github.com/kpimon/kpimon/postgres"}
	allowed := map[string]bool{"github.com/kpimon/kpimon/cmd/kpimon": true}
	for _, b := range backends {
		allowed[b] = true
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 || allowed[fields[0]] {
			continue
		}
		for _, imp := range fields[1:] {
			for _, b := range backends {
				if imp == b {
					t.Errorf("%s imports the backend %s; it should depend on package store", fields[0], b)
				}
			}
		}
	}
}
