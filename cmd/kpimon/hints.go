package main

import (
	"net/url"
	"os"
	"strings"
)

// Hints are commands printed for the clerk to type next (kpimon lock --unlock …). They name
// every flag the command needs, with the values she used, quoted for the shell where
// needed, and never a password.

// shellArg quotes a value for a POSIX shell when it holds anything but letters (Chinese
// too), digits and the punctuation of paths and addresses.
func shellArg(s string) string {
	if s == "" {
		return "''"
	}
	plain := true
	for _, r := range s {
		switch {
		case r > 0x7f, r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case strings.ContainsRune("-_./:@%+,=", r):
		default:
			plain = false
		}
	}
	if plain {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// redactDSN is a database address without its password: a PostgreSQL URL's password, in
// the user part or as ?password=, becomes xxxxx; a file path is unchanged.
func redactDSN(dsn string) string {
	if !isPostgresURL(dsn) {
		return dsn
	}
	u, err := url.Parse(dsn)
	if err != nil {
		// unparseable: keep the scheme, the user's name is not worth the risk
		return dsn[:strings.Index(dsn, "://")+3] + "…"
	}
	if q := u.Query(); q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// dbArg is --db as a hint writes it: the value given, quoted; a PostgreSQL address taken
// from $KPIMON_DB as "$KPIMON_DB", so that the hint runs as printed and shows no password;
// a PostgreSQL address given on the command line with its password redacted.
func dbArg(dsn string) string {
	if isPostgresURL(dsn) {
		if dsn == os.Getenv("KPIMON_DB") {
			return `--db "$KPIMON_DB"`
		}
		return "--db " + shellArg(redactDSN(dsn))
	}
	return "--db " + shellArg(dsn)
}

// assessmentArgs names the assessment in a hint as the clerk named it: the --config she gave
// (with --assessment when she gave it or the configs hold several), or --assessment alone
// when she gave no config.
func assessmentArgs(cf *configFlags, id string, several bool) string {
	if len(cf.paths) == 0 {
		return "--assessment " + shellArg(id)
	}
	var b strings.Builder
	for i, p := range cf.paths {
		if i > 0 {
			b.WriteString(" ")
		}
		b.WriteString("--config " + shellArg(p))
	}
	if several || cf.id != "" {
		b.WriteString(" --assessment " + shellArg(id))
	}
	return b.String()
}
