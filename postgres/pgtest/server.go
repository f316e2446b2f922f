package pgtest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
)

// Server is a PostgreSQL cluster of a test's own, in a temporary folder, listening on
// 127.0.0.1 and a free port only: a test can stop and start it without disturbing other
// tests that share the server of KPIMON_TEST_POSTGRES.
type Server struct {
	bin  string // the folder of initdb and pg_ctl
	dir  string
	port int
	as   []string // runuser -u postgres -- when running as root (PostgreSQL refuses root)
}

// StartServer initializes and starts a cluster that is removed when the test ends. It
// skips the test (fails it under CI=true) when the PostgreSQL server programs are not
// installed.
func StartServer(tb testing.TB) *Server {
	tb.Helper()
	bin := serverBin()
	if bin == "" {
		unavailable(tb, "the PostgreSQL server programs (initdb, pg_ctl) are not installed (Debian package postgresql)")
	}
	dir, err := os.MkdirTemp("", "kpimon-pg-")
	if err != nil {
		tb.Fatal(err)
	}
	s := &Server{bin: bin, dir: dir}
	tb.Cleanup(func() { os.RemoveAll(dir) })
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			unavailable(tb, "running as root, and there is no postgres user to run PostgreSQL as")
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			tb.Fatal(err)
		}
		s.as = []string{"runuser", "-u", "postgres", "--"}
	}
	s.run(tb, "initdb", "-D", s.data(), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	s.port = ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	s.Start(tb)
	tb.Cleanup(func() { s.pgctl(nil, "stop", "-m", "immediate") })
	return s
}

// URL is the address of the cluster's postgres database.
func (s *Server) URL() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", s.port)
}

// Start starts the (stopped) cluster and waits until it accepts connections.
func (s *Server) Start(tb testing.TB) {
	tb.Helper()
	if err := s.pgctl(tb, "start", "-w", "-l", filepath.Join(s.dir, "log"),
		"-o", fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -k %s", s.port, s.dir)); err != nil {
		log, _ := os.ReadFile(filepath.Join(s.dir, "log"))
		tb.Fatalf("start PostgreSQL: %v\n%s", err, log)
	}
}

// Stop shuts the cluster down the way a restart does (pg_ctl stop -m fast: sessions are
// terminated with 57P01 admin_shutdown).
func (s *Server) Stop(tb testing.TB) {
	tb.Helper()
	if err := s.pgctl(tb, "stop", "-w", "-m", "fast"); err != nil {
		tb.Fatalf("stop PostgreSQL: %v", err)
	}
}

func (s *Server) data() string { return filepath.Join(s.dir, "data") }

func (s *Server) pgctl(tb testing.TB, args ...string) error {
	if tb != nil {
		tb.Helper()
	}
	return s.command("pg_ctl", append([]string{"-D", s.data()}, args...)...).Run()
}

func (s *Server) run(tb testing.TB, name string, args ...string) {
	tb.Helper()
	if out, err := s.command(name, args...).CombinedOutput(); err != nil {
		tb.Fatalf("%s: %v\n%s", name, err, out)
	}
}

func (s *Server) command(name string, args ...string) *exec.Cmd {
	argv := append(append(append([]string{}, s.as...), filepath.Join(s.bin, name)), args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = s.dir
	return cmd
}

// serverBin finds the folder of initdb: on PATH, or Debian's /usr/lib/postgresql/N/bin
// (the newest).
func serverBin() string {
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p)
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	sort.Slice(dirs, func(i, j int) bool {
		vi, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(dirs[i]))))
		vj, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(dirs[j]))))
		return vi > vj
	})
	if len(dirs) == 0 {
		return ""
	}
	return filepath.Dir(dirs[0])
}
