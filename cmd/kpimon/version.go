package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/kpimon/kpimon/postgres"
	"github.com/kpimon/kpimon/sqlite"
)

// version is the release's version, set by release/build with
// -ldflags "-X main.version=v1.2.3"; a build from source says "dev".
var version = "dev"

// buildInfo is the version, the commit and the build date of this binary: the commit and
// its date come from the Go toolchain's build information (recorded for builds in a git
// checkout), and a release stamps its version.
type buildInfo struct {
	Version  string
	Commit   string // the git revision, with "+修改" when the tree had uncommitted changes
	Date     string // the commit's time, UTC
	Go       string
	Platform string
}

// unknown is what version prints for a commit or a date the build did not record.
const unknown = "未知"

// unknownBuildNote follows an unknown commit or date: Go records them only for a build in
// a git checkout with VCS stamping on (GOFLAGS=-buildvcs=false, as on some build machines,
// or a source archive, records none); release/build always stamps them.
const unknownBuildNote = "（这个程序构建时没有记录提交和构建日期，如在 git 仓库以外构建或设了 -buildvcs=false；用 release/build 构建的发布版带有这两项）"

func readBuildInfo() buildInfo {
	b := buildInfo{Version: version, Commit: unknown, Date: unknown, Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return b
	}
	modified := false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			b.Commit = s.Value
		case "vcs.time":
			if t, err := time.Parse(time.RFC3339, s.Value); err == nil {
				b.Date = t.UTC().Format("2006-01-02 15:04 UTC")
			}
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if modified {
		b.Commit += "+修改"
	}
	return b
}

func runVersion(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("version", stderr)
	fs.Usage = func() { fmt.Fprintln(fs.Output(), "用法: kpimon version") }
	if help, err := parseFlags(fs, args, stdout); help || err != nil {
		return err
	}
	_, err := io.WriteString(stdout, versionText(readBuildInfo()))
	return err
}

// versionText is what kpimon version prints for the build b.
func versionText(b buildInfo) string {
	var s strings.Builder
	fmt.Fprintf(&s, "kpimon %s\n提交：%s\n构建日期：%s\n", b.Version, b.Commit, b.Date)
	if b.Commit == unknown || b.Date == unknown {
		fmt.Fprintln(&s, unknownBuildNote)
	}
	fmt.Fprintf(&s, "%s %s\n数据库结构版本：SQLite %d，PostgreSQL %d\n", b.Go, b.Platform, sqlite.KnownSchema(), postgres.KnownSchema())
	return s.String()
}
